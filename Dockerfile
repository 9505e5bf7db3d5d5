# Berth's container image: the `berth` binary, its cloud credential helper and the dashboard's
# site folder on a small Debian with the docker CLI and the compose v2 plugin, which Berth drives.
#
#   docker build -t berth .                                   (BuildKit: Docker 23+, or buildx)
#   docker compose -f deploy/berth-compose.yml build          (compose builds with BuildKit itself)
#
# Build arguments:
#   BUILDER_IMAGE  a Debian image with Rust (rustup) in it; the wasm32 target and wasm-bindgen
#                  are added when missing. Default rust:1-bookworm.
#   RUNTIME_IMAGE  a Debian trixie or newer image: Debian ships the compose v2 plugin
#                  (package docker-compose) only from trixie on. Default debian:trixie-slim.
#   CARGO_PROFILE  release (the default), dev, or image-test (unoptimised, no debug info: the
#                  cheapest cold build, which scripts/tests/image.sh uses).
#   BERTH_UID, BERTH_GID  the non-root user Berth runs as (default 10001); it must be able to
#                  write the compose files it manages.
# There is no `# syntax=` line on purpose: the built-in Dockerfile frontend of Docker 20.10+
# understands the cache mounts below, and naming a frontend image would pull it.

ARG BUILDER_IMAGE=rust:1-bookworm
ARG RUNTIME_IMAGE=debian:trixie-slim

# --- builder: the same steps as scripts/build.sh on a developer's machine ------------------------
FROM ${BUILDER_IMAGE} AS builder

# Only what the image lacks is installed, so a builder image made offline with these packages
# already in it needs no package mirror.
RUN set -eu; \
    missing=""; \
    for package in ca-certificates gcc g++ libc6-dev make pkg-config python3; do \
      dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
        || missing="$missing $package"; \
    done; \
    if [ -n "$missing" ]; then \
      apt-get update; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing; \
      rm -rf /var/lib/apt/lists/*; \
    fi

WORKDIR /src
# The wasm32 target and the wasm-bindgen matching Cargo.lock, skipped when present; this layer
# is kept until Cargo.lock or setup.sh change.
COPY Cargo.lock ./
COPY scripts/setup.sh scripts/
RUN --mount=type=cache,id=berth-cargo-registry,target=/usr/local/cargo/registry \
    scripts/setup.sh --run

COPY . .
ARG CARGO_PROFILE=release
# The cargo registry and target folder are cache mounts: a rebuild after a source change
# recompiles only what changed. Their contents are not part of the layer, so the results are
# copied out to /out in the same step.
RUN --mount=type=cache,id=berth-cargo-registry,target=/usr/local/cargo/registry \
    --mount=type=cache,id=berth-cargo-git,target=/usr/local/cargo/git \
    --mount=type=cache,id=berth-target,target=/src/target,sharing=locked \
    set -eu; \
    export CARGO_TARGET_DIR=/src/target; \
    case "$CARGO_PROFILE" in \
      release) scripts/build.sh --release; binary_dir=release ;; \
      dev|debug) scripts/build.sh; binary_dir=debug ;; \
      image-test) scripts/build.sh --profile image-test; binary_dir=image-test ;; \
      *) echo "CARGO_PROFILE must be release, dev or image-test, not '$CARGO_PROFILE'" >&2; exit 2 ;; \
    esac; \
    mkdir -p /out; \
    cp "target/$binary_dir/berth" "target/$binary_dir/berth-credential-helper" /out/; \
    if command -v strip >/dev/null; then strip --strip-debug /out/berth /out/berth-credential-helper; fi; \
    cp -r target/site /out/site

# --- runtime -------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE}
ARG RUNTIME_IMAGE

# curl: the health check. docker-cli + docker-compose: the `docker compose` Berth runs (Debian's
# docker-compose is the v2 CLI plugin from trixie on). tini: PID 1, so the processes compose
# leaves behind are reaped and signals reach Berth.
RUN set -eu; \
    missing=""; \
    for package in ca-certificates curl docker-cli docker-compose tini; do \
      dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
        || missing="$missing $package"; \
    done; \
    if [ -n "$missing" ]; then \
      apt-get update; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing; \
      rm -rf /var/lib/apt/lists/*; \
    fi; \
    docker compose version \
      || { echo "no docker compose v2 plugin in the runtime image (use Debian trixie or newer)" >&2; exit 1; }

ARG BERTH_UID=10001
ARG BERTH_GID=10001
# The socket's group differs per host, so it is not baked in: the container joins it at start
# (group_add in deploy/berth-compose.yml, or `docker run --group-add`).
RUN groupadd --gid "$BERTH_GID" berth \
    && useradd --uid "$BERTH_UID" --gid berth --create-home --home-dir /home/berth \
       --shell /usr/sbin/nologin berth \
    && mkdir -p /data \
    && chown berth:berth /data

# berth runs the credential helper (the cloud logins) from beside its own binary.
COPY --from=builder /out/berth /out/berth-credential-helper /opt/berth/
COPY --from=builder /out/site /opt/berth/site
RUN ln -s /opt/berth/berth /usr/local/bin/berth

# The working folder is /data: `berth` reads /data/.updater.env when it is there (and runs on its
# defaults when it is not), and keeps the database beside it.
ENV LEPTOS_SITE_ROOT=/opt/berth/site \
    LISTEN_ADDR=0.0.0.0:8080 \
    DATABASE_URL=sqlite:///data/berth.db
WORKDIR /data
VOLUME /data
EXPOSE 8080
USER berth

# The port is read from LISTEN_ADDR, so moving it does not make the container unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${LISTEN_ADDR##*:}/healthz" >/dev/null || exit 1

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="Berth" \
      org.opencontainers.image.description="GitOps deployment agent for Docker Compose hosts: watches registries, redeploys compose services, verifies and rolls back" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${RUNTIME_IMAGE}" \
      org.opencontainers.image.source="https://example.invalid/berth" \
      org.opencontainers.image.url="https://example.invalid/berth" \
      org.opencontainers.image.documentation="https://example.invalid/berth#running-berth-in-a-container"

ENTRYPOINT ["/usr/bin/tini", "--", "berth"]
CMD ["serve"]
