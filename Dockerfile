FROM python:3.11-slim
WORKDIR /srv/hotline
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    HOTLINE_RULES_DIR=/srv/hotline/routing_rules
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
COPY routing_rules ./routing_rules
# Editable: the app finds alembic.ini, migrations/ and routing_rules/ beside its sources, as in a
# checkout (and as .ci/run runs it).
RUN pip install --no-cache-dir -e . && useradd --system hotline
USER hotline
EXPOSE 8000
CMD ["hotline", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
