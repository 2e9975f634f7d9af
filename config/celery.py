"""The Celery application.

Production uses Redis as broker (``REDIS_URL``); the embedded default runs tasks in-process
(``CELERY_TASK_ALWAYS_EAGER``). Settings are read from Django settings under ``CELERY_``.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

# Every task of the project inherits the retry policy of ``registry.tasks.RegistryTask``.
app = Celery("registry", task_cls="registry.tasks:RegistryTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
