"""The chunk table: the source of truth for vectors. FAISS files are a cache derived from it."""

import secrets

import numpy as np
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from wagtail.models import Locale, Page

# The change log keeps the last KEEP_CHANGES generations; a node further behind rebuilds
# every language from the chunk table instead of reading the log.
KEEP_CHANGES = 5000
PRUNE_EVERY = 100


def new_chunk_id():
    # Random 62-bit ids are never reused, so a stale FAISS entry can never point at a
    # different chunk that happened to get a recycled autoincrement id.
    return secrets.randbits(62) or 1


class ChunkQuerySet(models.QuerySet):
    def for_model(self, model_id):
        return self.filter(model_id=model_id)

    def for_locale(self, locale_code):
        return self.filter(locale__language_code=locale_code)


class Chunk(models.Model):
    """One embedded piece of a live article: summary, one issue phrasing, a step, the cause."""

    VISIBILITY_PUBLIC = "public"
    VISIBILITY_INTERNAL = "internal"

    id = models.BigIntegerField(primary_key=True, default=new_chunk_id, editable=False)
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="chunks")
    locale = models.ForeignKey(Locale, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=16)  # summary, issue, step, cause, diagnosis
    step_number = models.PositiveIntegerField(null=True, blank=True)
    text = models.TextField()
    text_hash = models.CharField(max_length=64)
    vector = models.BinaryField()
    model_id = models.CharField(max_length=255)
    dimension = models.PositiveIntegerField()
    visibility = models.CharField(max_length=10, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ChunkQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["locale", "model_id"]),
            models.Index(fields=["page", "position"]),
        ]

    def __str__(self):
        return f"{self.page_id}#{self.position} {self.kind}"

    def as_array(self):
        return self.decode(self.vector)

    # The one place that knows how a vector is stored: raw little-endian float32.
    @staticmethod
    def encode_vector(vector):
        return np.ascontiguousarray(vector, dtype="float32").tobytes()

    @staticmethod
    def decode(blob):
        return np.frombuffer(bytes(blob), dtype="float32")

    @classmethod
    def decode_many(cls, blobs, dimension):
        """One (n, dimension) float32 matrix from stored vectors."""
        blobs = list(blobs)
        if not blobs:
            return np.zeros((0, dimension), "float32")
        return np.frombuffer(b"".join(bytes(b) for b in blobs), dtype="float32").reshape(
            len(blobs), dimension
        )


class PendingIndexUpdate(models.Model):
    """A page whose index update is owed. Written in the publishing transaction, so an update
    survives a task queue that is down; removed once the index caught up."""

    page_id = models.IntegerField(unique=True)
    locale_id = models.IntegerField(null=True)
    reason = models.CharField(max_length=32)
    requested_at = models.DateTimeField(auto_now=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    def __str__(self):
        return f"page {self.page_id} ({self.reason})"


class IndexState(models.Model):
    """One row: the generation of the chunk table, bumped in every transaction that changes
    chunk rows (embeddings/replica.py). Updating this row locks it until commit, so concurrent
    writers commit their generations in order and a node never skips one."""

    generation = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(null=True)

    def __str__(self):
        return f"generation {self.generation}"

    @classmethod
    def current(cls):
        """The database's generation (0 before the first chunk write): one primary-key read."""
        return cls.objects.filter(pk=1).values_list("generation", flat=True).first() or 0

    @classmethod
    def bump(cls, page_id=None, locale_id=None):
        """Record a change to the chunk table; call it in the transaction that made it, as late
        as possible (the row stays locked until commit). Returns the new generation."""
        with transaction.atomic():
            now = timezone.now()
            if not cls.objects.filter(pk=1).update(generation=F("generation") + 1, changed_at=now):
                cls.objects.get_or_create(pk=1)  # a flushed test database
                cls.objects.filter(pk=1).update(generation=F("generation") + 1, changed_at=now)
            generation = cls.current()
            IndexChange.objects.create(generation=generation, page_id=page_id, locale_id=locale_id)
            if generation % PRUNE_EVERY == 0:
                IndexChange.objects.filter(generation__lte=generation - KEEP_CHANGES).delete()
        return generation


class IndexChange(models.Model):
    """What one generation changed: a page's chunks in a locale (locale None: any locale, as
    after `rebuild_vector_index`). Nodes read the generations they have not applied yet."""

    generation = models.BigIntegerField(unique=True)
    page_id = models.IntegerField(null=True)
    locale_id = models.IntegerField(null=True)
    changed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"generation {self.generation}: page {self.page_id}"
