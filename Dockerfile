FROM python:3.11-slim
WORKDIR /srv/hotline
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
COPY routing_rules ./routing_rules
RUN pip install --no-cache-dir .  && useradd --system hotline
USER hotline
EXPOSE 8000
CMD ["hotline", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
