# Holdfast appliance image: build with the Rust toolchain, run from a small Debian base as a
# non-root user. The signer (holdfast-signer) is a vendor tool and is not in this image.
#
#   docker build -t holdfast .
#   docker run -p 8080:8080 -v holdfast-data:/var/lib/holdfast holdfast

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# The commit shown by `holdfast version`; the build context carries no .git.
ARG HOLDFAST_GIT_COMMIT=unknown
# Production: the trusted vendor public keys, a file in the build context, e.g.
#   docker build --build-arg HOLDFAST_TRUSTED_KEYS=keys/production.pub .
# Empty: the build trusts the DEMO key and says so (see LICENSE-KEYS.md).
ARG HOLDFAST_TRUSTED_KEYS=
# The release keys `holdfast update` trusts (see RELEASES.md); empty: the DEMO release key.
ARG HOLDFAST_RELEASE_KEYS=
ENV HOLDFAST_GIT_COMMIT=${HOLDFAST_GIT_COMMIT} \
    HOLDFAST_TRUSTED_KEYS=${HOLDFAST_TRUSTED_KEYS} \
    HOLDFAST_RELEASE_KEYS=${HOLDFAST_RELEASE_KEYS}
COPY Cargo.toml Cargo.lock build.rs askama.toml ./
COPY build_support ./build_support
COPY keys/*.pub ./keys/
COPY src ./src
COPY assets ./assets
COPY migrations ./migrations
COPY benches ./benches
RUN cargo build --release --locked --bin holdfast \
    && install -m 0755 target/release/holdfast /usr/local/bin/holdfast

FROM debian:bookworm-slim
RUN groupadd --system --gid 10001 holdfast \
    && useradd --system --uid 10001 --gid holdfast --home-dir /var/lib/holdfast --shell /usr/sbin/nologin holdfast \
    && install -d -o holdfast -g holdfast -m 0700 /var/lib/holdfast
COPY --from=build /usr/local/bin/holdfast /usr/local/bin/holdfast
ENV HOLDFAST_DATA_DIR=/var/lib/holdfast \
    HOLDFAST_LISTEN=0.0.0.0:8080
USER holdfast:holdfast
VOLUME ["/var/lib/holdfast"]
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["holdfast", "healthcheck"]
ENTRYPOINT ["holdfast"]
CMD ["serve"]
