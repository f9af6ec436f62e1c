# A slim image that runs the bot as a non-root user, with its state in a volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLCONFIGDIR=/tmp/matplotlib

WORKDIR /app
# The same pinned versions the tests run with (requirements.lock), with the web view's
# Datasette (python -m bot web: compose.yaml's web service).
COPY pyproject.toml README.md requirements.lock ./
COPY bot ./bot
RUN pip install -c requirements.lock '.[web]'

COPY config.toml ./
COPY watchlists ./watchlists
# Maintainers edit watchlists from chat (/watch add) and feeds from the command line:
# the bot's user owns them and its state.
RUN useradd --create-home --uid 10001 sahelwatch \
    && mkdir -p /app/state \
    && chown -R sahelwatch /app/state /app/watchlists /app/config.toml
USER sahelwatch
VOLUME ["/app/state"]

# The token comes from the environment: TELEGRAM_BOT_TOKEN, or TELEGRAM_BOT_TOKEN_FILE
# naming a mounted secret file. Any setting can be overridden the same way, for example
# SAHEL_WATCH_TELEGRAM__CHAT=@my_channel (see the README's Configuration section).
# Unhealthy when no poll cycle has completed for 4 polling ticks (at least 5 minutes).
HEALTHCHECK --interval=1m --timeout=30s --start-period=2m --retries=3 \
    CMD ["python", "-m", "bot", "health"]
CMD ["python", "-m", "bot", "run"]
