# The portal in production: slim Python, non-root, gunicorn, health check on /readyz (the
# database and Redis answer; /healthz is the process's liveness). Migrations run as a separate one-shot command, and the worker that sends
# mail is the same image with `flask portal worker` as its command (see compose.yaml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORTAL_ENV=production \
    PORTAL_BIND=0.0.0.0:8000 \
    PORTAL_INSTANCE_PATH=/app/instance \
    FLASK_APP=portal

WORKDIR /app
RUN useradd --create-home --uid 10001 portal

# Exactly the pinned runtime versions (requirements/runtime.txt, every package direct and
# indirect, docs/decisions/0047), in a layer of their own; then the portal without resolving again.
COPY requirements/runtime.txt ./requirements/runtime.txt
RUN pip install --no-cache-dir -r requirements/runtime.txt
COPY pyproject.toml README.md alembic.ini procedure_catalog.yaml wsgi.py ./
COPY catalog ./catalog
# The conformance report that the accessibility statement page shows (decision 0065).
COPY accessibility/report.json ./accessibility/report.json
COPY portal ./portal
COPY migrations ./migrations
COPY migrations_mocks ./migrations_mocks
RUN pip install --no-cache-dir --no-deps --no-build-isolation -e . \
    && pip check \
    && mkdir -p /app/instance && chown portal:portal /app/instance

USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4).status == 200 else 1)"]
CMD ["gunicorn", "--config", "python:portal.gunicorn_conf", "portal:create_app()"]
