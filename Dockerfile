# A slim image that runs the bot as a non-root user, with its state in a volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLCONFIGDIR=/tmp/matplotlib

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install .

COPY config.toml ./
COPY watchlists ./watchlists
RUN useradd --create-home --uid 10001 sahelwatch \
    && mkdir -p /app/state \
    && chown sahelwatch /app/state
USER sahelwatch
VOLUME ["/app/state"]

# The token comes from the environment: TELEGRAM_BOT_TOKEN, or TELEGRAM_BOT_TOKEN_FILE
# naming a mounted secret file.
CMD ["python", "-m", "bot", "run"]
