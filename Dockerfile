# HR Portal image: the Reflex app (UI, websocket, /api/v1) on one port.
# Build:  docker build -t hr-portal .
# Run:    see deploy/compose.yaml (PostgreSQL, Redis, two portal processes, nginx in front).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    REFLEX_USE_SYSTEM_BUN=1 REFLEX_TELEMETRY_ENABLED=false \
    PATH=/app/.tools/node_modules/.bin:$PATH

# npm brings bun (Reflex builds the frontend with it); curl for the health check.
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm curl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
RUN npm install --prefix .tools --no-audit --no-fund --loglevel=error --save-exact bun@1.4.5

COPY . .
# Warm the frontend dependencies; the final bundle is compiled at start because it embeds
# HR_BASE_URL (the origin browsers use for the websocket).
RUN python -m reflex export --frontend-only --no-zip >/dev/null 2>&1 || true

RUN useradd --create-home --uid 10001 portal && mkdir -p data && chown -R portal:portal /app
USER portal

EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s \
  CMD curl -fsS http://127.0.0.1:3000/api/v1/health || exit 1
# Migrations run before the app starts (Alembic is safe to run from several replicas: the
# second one finds the schema at head). Set HR_RUN_MIGRATIONS=0 to run them as a separate step.
CMD ["sh", "-c", "[ \"${HR_RUN_MIGRATIONS:-1}\" = 0 ] || python -m hr_portal.cli migrate; exec python -m reflex run --env prod --frontend-port 3000 --backend-port 3000"]
