# The appointment service's image: the `appointments` command (worker, migrate, ...).
FROM python:3.11.10-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Only what the package needs, listed, so nothing from a developer's checkout
# (virtual environments, local data, secrets) can slip into the image.
COPY pyproject.toml README.md settings.py worker.py ./
COPY workflows ./workflows
COPY activities ./activities
COPY store ./store
COPY starter ./starter
RUN pip install . && rm -rf build ./*.egg-info

# The default policy; docker-compose.yml mounts the host's policy folder over it.
COPY policy ./policy

RUN useradd --create-home --uid 10001 --user-group appointments
USER appointments

CMD ["appointments", "worker"]
