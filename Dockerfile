# innoreport: multi-stage build, small non-root runtime image.
#   docker build -t innoreport .
# Configuration comes from the environment (see README, "Configuration").
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p innoreport-server \
 && cp target/release/innoreport /innoreport

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/innoreport --create-home innoreport
COPY --from=build /innoreport /usr/local/bin/innoreport
USER innoreport
WORKDIR /var/lib/innoreport
ENV INNOREPORT_BIND=0.0.0.0:8080 \
    INNOREPORT_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD curl -fsS http://127.0.0.1:8080/ready || exit 1
ENTRYPOINT ["innoreport"]
CMD ["serve"]
