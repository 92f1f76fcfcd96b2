FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p snaprock

FROM debian:bookworm-slim
# CA certificates for S3 over HTTPS.
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/snaprock /usr/local/bin/snaprock
ENTRYPOINT ["/usr/local/bin/snaprock"]
