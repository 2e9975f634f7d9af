"""The Celery application.

Production uses Redis as broker (``REDIS_URL``); the embedded default runs tasks in-process
(``CELERY_TASK_ALWAYS_EAGER``). Settings are read from Django settings under ``CELERY_``.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("registry")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
