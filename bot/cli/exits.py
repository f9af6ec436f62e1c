"""The command line's exit statuses, shared by every command group."""

EXIT_OK = 0
EXIT_ERROR = 1  # a bad input, a failed check, an unhealthy bot
EXIT_PENDING = 2  # run --once ended with alerts still owed to Telegram
