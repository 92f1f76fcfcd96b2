FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p snaprock

FROM debian:bookworm-slim
COPY --from=build /src/target/release/snaprock /usr/local/bin/snaprock
ENTRYPOINT ["/usr/local/bin/snaprock"]
