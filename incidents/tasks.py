"""Background tasks (django-tasks): the first attempt of a webhook delivery."""

from django_tasks import task

from . import webhooks


@task()
def deliver_webhook(delivery_id):
    delivery = webhooks.deliver(delivery_id)
    return delivery.status if delivery is not None else None
