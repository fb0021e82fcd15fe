# The ddrc-platform image: the Dagster code location (gRPC server on port 3030) and, through
# the K8sRunLauncher, every run's pod. The same image serves dev and prd (DDRC_DEPLOYMENT
# comes from the Helm values): it bakes the dbt manifest of every target, each under
# ddrc_dbt/target/<target>/, since dev and prd name different Snowflake databases.
#
#   docker build -t REGISTRY/ddrc-platform:$(git rev-parse --short=12 HEAD) .
#
# The webserver and the daemon run the Helm chart's own images (deploy/helm/).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
FROM ${PYTHON_IMAGE}

# uv from PyPI, pinned; dagster-k8s on the same 0.29 line as the locked dagster libraries
# (dagster 1.13.27 <-> libraries 0.29.27; tests/test_deploy_config.py checks it against uv.lock)
ARG UV_VERSION=0.13.9
ARG DAGSTER_K8S_VERSION=0.29.27
# the Fivetran workspace snapshot the definitions load (no Fivetran API call at start-up)
ARG FIVETRAN_SNAPSHOT=ddrc_platform/ingest/fivetran_snapshot.json

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    VIRTUAL_ENV=/app/.venv \
    PATH=/app/.venv/bin:$PATH

# tini as PID 1: forwards SIGTERM to dagster (gRPC server or run worker) and reaps children
# (dbt runs as a subprocess)
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && python -m pip install --no-cache-dir "uv==${UV_VERSION}" \
    && groupadd --system --gid 10001 ddrc \
    && useradd --system --uid 10001 --gid ddrc --create-home --home-dir /home/ddrc ddrc

WORKDIR /app

# 1. Third-party dependencies from the lock (cached until uv.lock changes), then dagster-k8s,
#    constrained to the lock's versions so that it changes nothing already resolved.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project \
    && uv export --quiet --frozen --no-dev --no-hashes --no-emit-project -o /tmp/constraints.txt \
    && uv pip install --python /app/.venv/bin/python --constraint /tmp/constraints.txt \
        "dagster-k8s==${DAGSTER_K8S_VERSION}" \
    && rm /tmp/constraints.txt \
    && python -c "import dagster_k8s, dagster_postgres"

# 2. The project itself (editable: ddrc_platform finds ddrc_dbt/ and config/ beside it).
#    --inexact keeps dagster-k8s, which the lock does not list.
COPY . .
RUN uv sync --frozen --no-dev --inexact
RUN test -s "${FIVETRAN_SNAPSHOT}" \
    || { echo "missing Fivetran workspace snapshot ${FIVETRAN_SNAPSHOT}" >&2; exit 1; }

# 3. Bake the dbt manifests: `dbt parse` per target (ddrc_platform/transform/project.py), which never
#    connects (profiles.yml gives every Snowflake setting a default; the placeholders below
#    only make that explicit). Then check that dev and prd name their own databases. The
#    DDRC_SNOWFLAKE_*_DATABASE overrides must stay unset here and at run time: the
#    manifests' relation names come from the defaults.
RUN SNOWFLAKE_ACCOUNT=parse-only SNOWFLAKE_USER=parse-only DDRC_HOME=/tmp/ddrc-parse \
        DBT_SEND_ANONYMOUS_USAGE_STATS=false \
        python -m ddrc_platform.cli prepare \
    && for target in dev prd; do \
        python -c "import json, sys; t = sys.argv[1]; \
m = json.load(open(f'ddrc_dbt/target/{t}/manifest.json')); \
adapter = m['metadata']['adapter_type']; \
summary = [n['relation_name'] for n in m['nodes'].values() if n['name'] == 'ddrc_metrics_summary']; \
want = 'ANALYTICS_DDRC_' + t.upper() + '.'; \
ok = adapter == 'snowflake' and len(summary) == 1 and summary[0].startswith(want); \
print(t, 'dbt manifest:', adapter, summary); sys.exit(0 if ok else f'{t}: manifest is not for {want}')" \
            "$target" || exit 1; \
    done \
    && rm -rf /tmp/ddrc-parse \
    && python -m compileall -q ddrc_platform \
    && mkdir -p /var/lib/ddrc /opt/dagster/dagster_home \
    && chown -R ddrc:ddrc /var/lib/ddrc /opt/dagster/dagster_home ddrc_dbt/target

# DDRC_HOME holds the run's scratch (dbt target and logs) inside the pod; DAGSTER_HOME is
# where the chart mounts the instance's dagster.yaml.
ENV DDRC_HOME=/var/lib/ddrc \
    DAGSTER_HOME=/opt/dagster/dagster_home \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false

USER 10001:10001
EXPOSE 3030
ENTRYPOINT ["tini", "--"]
CMD ["dagster", "api", "grpc", "-m", "ddrc_platform.definitions", "-h", "0.0.0.0", "-p", "3030"]
