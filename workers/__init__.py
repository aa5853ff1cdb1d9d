"""Celery worker entry point and tasks."""
