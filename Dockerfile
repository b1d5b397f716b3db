# The appointment service's image: the `appointments` command. One image runs every role,
# chosen by the command: `appointments worker` (the default), `appointments web` (HTTP API,
# console and public board on WEB_PORT, 8000), `appointments migrate` (a one-shot), and the
# probes `appointments health worker|web` (see docker-compose.yml and deploy/helm.md).
#
# One list decides what the service is made of: the packages and modules that pyproject.toml
# names. The build stage gets the checkout (less what .dockerignore leaves out) and builds
# the wheel from it; the image installs that wheel and nothing else of the tree but the
# default policy. tests/test_image.py builds the wheel from the same file set, installs it
# into a clean virtual environment and runs the commands the image runs.
FROM python:3.11.10-slim-bookworm AS build

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY . .
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11.10-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels

# The default policy; docker-compose.yml mounts the host's policy folder over it.
COPY policy ./policy

RUN useradd --create-home --uid 10001 --user-group appointments
USER appointments

# in a container the web service listens on every interface of the container's own network
ENV WEB_HOST=0.0.0.0 \
    WEB_PORT=8000
EXPOSE 8000

CMD ["appointments", "worker"]
