# HR Portal images, two targets from one build:
#   app    the portal process: websocket, /api/v1 and Reflex's endpoints (backend only), port 3000
#   proxy  nginx with deploy/nginx.conf and the frontend built once, in front of any number of apps
# Build:  docker build --build-arg HR_BASE_URL=https://hr.example.com --target app -t hr-portal .
#         docker build --build-arg HR_BASE_URL=https://hr.example.com --target proxy -t hr-portal-proxy .
# Run:    see deploy/compose.yaml (PostgreSQL, Redis, two portal processes, nginx in front).
# The frontend is built here, once, because every process behind the proxy must hand out the same
# build (a build made at start is stamped with its start time, so two processes would differ), and
# because it embeds the public address browsers open the websocket to: HR_BASE_URL at build time.
FROM python:3.11-slim AS app

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    REFLEX_USE_SYSTEM_BUN=1 REFLEX_TELEMETRY_ENABLED=false REFLEX_CHECK_LATEST_VERSION=false \
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
ARG HR_BASE_URL=http://localhost:8080
RUN HR_BASE_URL="$HR_BASE_URL" REFLEX_API_URL="$HR_BASE_URL" \
    python -m reflex export --frontend-only --no-zip --env prod
ENV HR_SERVE_FRONTEND=false

RUN useradd --create-home --uid 10001 portal && mkdir -p data && chown -R portal:portal /app
USER portal

EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s \
  CMD curl -fsS http://127.0.0.1:3000/api/v1/health || exit 1
# Migrations run before the app starts (Alembic is safe to run from several replicas: the
# second one finds the schema at head). Set HR_RUN_MIGRATIONS=0 to run them as a separate step.
CMD ["sh", "-c", "[ \"${HR_RUN_MIGRATIONS:-1}\" = 0 ] || python -m hr_portal.cli migrate; exec python -m reflex run --env prod --backend-only --backend-port 3000 --backend-host 0.0.0.0"]

FROM nginx:1.27 AS proxy
COPY deploy/nginx.conf /etc/nginx/conf.d/default.conf
COPY --from=app /app/.web/build/client /usr/share/nginx/html
