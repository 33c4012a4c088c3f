# releasebot: slim, non-root, health-checked. `python -m bot` serves GET /health on PORT in both
# modes, and Slack over HTTP (POST /slack/events) or over Socket Mode when SLACK_APP_TOKEN is set.
# Dependencies come from requirements.lock (exact versions, hashes checked) in a layer of their
# own: a change to the code does not reinstall them. Refresh the lock with `make lock`.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /src
# 1. Dependencies: only the lock file, so this layer is rebuilt only when the lock changes.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
# 2. The code, installed without dependencies; setuptools (the build backend) is in the lock.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY core ./core
COPY storage ./storage
COPY blocks ./blocks
COPY scripts ./scripts
RUN pip install --no-deps --no-build-isolation . && pip check

FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH APP_ENV=prod PORT=3000
RUN useradd --create-home --uid 10001 releasebot
COPY --from=build /opt/venv /opt/venv
USER releasebot
WORKDIR /home/releasebot
EXPOSE 3000
# /health is served on PORT in HTTP and in Socket Mode alike; compose sets PORT, this reads it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"3000\")}/health', timeout=4)"
CMD ["python", "-m", "bot"]
