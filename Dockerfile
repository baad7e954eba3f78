# syntax=docker/dockerfile:1
# Align: `docker run IMAGE` serves the GitHub App on :8000; `docker run IMAGE worker` runs a queue worker.
# The base image is pinned by tag; pin its digest too (python:3.11.13-slim-bookworm@sha256:...) when you
# build for production, and let a bot such as Renovate bump both.
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

# --- builder: the app and every dependency as wheels ---------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY rules ./rules
RUN pip wheel --wheel-dir /wheels ".[server]"

# --- runtime: the wheels installed into a slim image, run as an unprivileged user -----------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="align" \
      org.opencontainers.image.description="Keeps pull requests aligned with the GPU deployment they run on" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# The wheels are mounted, not copied, so they never become a layer of the image.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels /wheels/*.whl \
    && useradd --system --no-log-init --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin align \
    && mkdir -p /var/lib/align && chown 10001:10001 /var/lib/align
# The embedded mode (ALIGN_QUEUE=memory) keeps accepted jobs here so that a restart resumes them: mount a
# volume to keep them across containers too.
ENV ALIGN_DATA_DIR=/var/lib/align
VOLUME ["/var/lib/align"]
USER 10001:10001
WORKDIR /tmp
EXPOSE 8000
# Probes the web process. A worker has no HTTP port: compose and Kubernetes check its heartbeat file instead.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["align"]
CMD ["serve", "--host", "0.0.0.0"]
