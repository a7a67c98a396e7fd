# Multi-stage build: a virtual environment built in the first stage, copied into a slim,
# non-root runtime that serves create_app() with granian (`byggesak-sandbox serve`).
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY app ./app
# The wheel carries the scenario library (setup.py copies it into app/library).
COPY scenarios ./scenarios
RUN pip install --no-cache-dir ".[postgres]"

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 sandbox
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SANDBOX_DATABASE_URL=sqlite:////data/sandbox.db
RUN mkdir /data && chown sandbox /data
USER sandbox
WORKDIR /home/sandbox
VOLUME ["/data"]
EXPOSE 8080
# All run state lives in the database, so several workers are safe; with SQLite keep them on
# one container, with PostgreSQL (SANDBOX_DATABASE_URL=postgresql://...) scale out freely.
# Workers, threads, backlog and keep-alive are serve's defaults, chosen in bench/README.md.
# The slim image has no curl: the health check is Python's own HTTP client on /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
CMD ["byggesak-sandbox", "serve", "--host", "0.0.0.0", "--port", "8080"]
