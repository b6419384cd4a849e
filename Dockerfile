# syntax=docker/dockerfile:1
# The Scimitar server: `docker build -t scimitar .`, then
#   docker run -p 8080:8080 -v scimitar-data:/data scimitar
# SQLite lives in the /data volume; set SCIMITAR_DATABASE_URL for PostgreSQL.
# docs/deploy.md covers TLS, scaling out, backups and upgrades.

FROM rust:1.95-bookworm AS build
WORKDIR /src
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev \
 && rm -rf /var/lib/apt/lists/*
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p scimitar-bin \
 && cp target/release/scimitar /usr/local/bin/scimitar

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin scimitar \
 && mkdir /data \
 && chown scimitar:scimitar /data
COPY --from=build /usr/local/bin/scimitar /usr/local/bin/scimitar
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
ENV SCIMITAR_LISTEN=0.0.0.0:8080 \
    SCIMITAR_DATABASE_URL=sqlite:///data/scimitar.db \
    SCIMITAR_FIRST_TOKEN_FILE=/data/first-token \
    RUST_LOG=info
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["scimitar"]
CMD ["serve"]
