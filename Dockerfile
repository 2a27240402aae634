# syntax=docker/dockerfile:1
# The `vayu` binary in a small image that runs as a non-root user: for `vayu k8s render`'s
# Indexed Job (deploy/kubernetes/README.md), or `docker run IMAGE run URL`.
#
#   docker build -t vayu:0.1.0 .
#
# Build stage: the Rust toolchain on Debian 12, so that the binary links against the same
# glibc as the runtime stage. The cache mounts (BuildKit) keep crates and the target
# directory between builds.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p vayu-control --bin vayu \
    && install -m 0755 target/release/vayu /usr/local/bin/vayu

# Runtime stage: Debian 12 slim, for glibc, libgcc_s and /bin/sh (the Job's pods run a
# shell script around `vayu run`; distroless/cc has no shell). TLS roots are built into the
# binary (webpki-roots), so no ca-certificates package.
FROM debian:bookworm-slim
COPY --from=build /usr/local/bin/vayu /usr/local/bin/vayu
# Numeric, so that Kubernetes can check `runAsNonRoot` (the rendered pods run as 10001).
USER 10001:10001
WORKDIR /tmp
ENTRYPOINT ["/usr/local/bin/vayu"]
CMD ["--help"]
