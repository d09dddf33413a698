"""The project's WSGI application, plus an X-Served-By header naming the worker process,
so a test can tell which gunicorn worker answered each request."""

import os

from kbsite.wsgi import application as project_application


def application(environ, start_response):
    def start(status, headers, exc_info=None):
        headers.append(("X-Served-By", str(os.getpid())))
        return start_response(status, headers, exc_info)

    return project_application(environ, start)
