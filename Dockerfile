# The appointment service's image: the `appointments` command (worker, migrate, ...).
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

CMD ["appointments", "worker"]
