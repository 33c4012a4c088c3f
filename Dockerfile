# releasebot image: slim, non-root. Until the Slack bot lands (issue #3) its default command
# prints the demo readiness report; `docker compose run --rm seed` seeds a real MongoDB.
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
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY --from=build /install /usr/local
RUN useradd --create-home --uid 10001 releasebot
USER releasebot
WORKDIR /home/releasebot
CMD ["python", "-m", "scripts.demo_report"]
