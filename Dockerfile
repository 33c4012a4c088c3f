# releasebot: slim, non-root, health-checked. `python -m bot` serves Slack over HTTP on PORT
# (POST /slack/events, GET /health), or over Socket Mode when SLACK_APP_TOKEN is set.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY core ./core
COPY storage ./storage
COPY blocks ./blocks
COPY scripts ./scripts
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 APP_ENV=prod PORT=3000
COPY --from=build /install /usr/local
RUN useradd --create-home --uid 10001 releasebot
USER releasebot
WORKDIR /home/releasebot
EXPOSE 3000
# In Socket Mode there is no HTTP server; set HEALTHCHECK to NONE there (compose does).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"3000\")}/health', timeout=4)"
CMD ["python", "-m", "bot"]
