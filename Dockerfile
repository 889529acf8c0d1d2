# Production image: gunicorn for the web, the same image for the Celery worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/data/media

WORKDIR /app
RUN useradd --system --uid 10001 --create-home tjp && mkdir -p /data/media /data/beat /app/staticfiles \
    && chown -R tjp:tjp /data /app

COPY requirements.lock ./
RUN pip install --no-cache-dir uv==0.13.9 \
    && uv pip install --system --no-cache -r requirements.lock

COPY --chown=tjp:tjp . .
USER tjp

EXPOSE 8000
# The web container collects static files on start; migrations run before it in the compose
# file's one-off `migrate` service, as the database owner (docs/audit.md). Worker and beat
# override CMD.
CMD ["sh", "-c", "python manage.py collectstatic --noinput -v0 && exec gunicorn tjp.wsgi:application --bind 0.0.0.0:8000 --workers ${WEB_CONCURRENCY:-3} --access-logfile -"]
