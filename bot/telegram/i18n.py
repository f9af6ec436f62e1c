"""Every word a Telegram reader sees, in French and English."""

from __future__ import annotations

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"

MESSAGES: dict[str, dict[str, str]] = {
    "fr": {
        "cmd.help": (
            "<b>Veille Sahel</b> lit la presse francophone et anglophone et signale les "
            "articles qui citent les listes de veille (Canik Academy, Wagner/Africa Corps, "
            "FAMa, Bayraktar TB2, Assimi Goïta).\n\n"
            "/recent [n] — dernières histoires signalées\n"
            "/hits &lt;liste&gt; [24h|7d|30d] — histoires d'une liste\n"
            "/search &lt;mots&gt; — recherche dans les articles\n"
            "/watchlists — les listes de veille\n"
            "/feeds — l'état des flux\n"
            "/stats [7d|30d] — graphique des alertes par jour\n"
            "/partners [30d|90d] — carte des partenariats (qui forme, arme, protège qui)\n"
            "/partners &lt;acteur&gt; — derniers signaux d'un acteur, avec leurs preuves\n"
            "/help — cette aide\n\n"
            "<b>Administration</b>\n"
            "/watch add|remove &lt;liste&gt; &lt;terme&gt;, /watch test &lt;texte&gt;\n"
            "/mute &lt;liste&gt; [période], /unmute &lt;liste&gt;\n"
            "/feed add &lt;url&gt; [nom], /feed remove &lt;nom&gt;"),
        "cmd.page": "page {page}/{pages}",
        "cmd.next": "Suivant ▶",
        "cmd.previous": "◀ Précédent",
        "cmd.slow_down": "Doucement 🙂 : attendez quelques secondes avant la prochaine commande.",
        "cmd.not_admin": "Désolé, cette commande est réservée aux administrateurs du bot.",
        "cmd.unknown_watchlist": "Liste inconnue : « {name} ». Listes : {known}.",
        "cmd.bad_period": "Période invalide : « {value} ». Exemples : 24h, 7d, 30d (90 jours au plus).",
        "cmd.too_long": "Argument trop long (au plus {max} caractères).",
        "cmd.storage_failed": "Impossible d'enregistrer cela pour l'instant (base de données indisponible ou disque plein) : réessayez plus tard.",
        "cmd.expired": "Cette liste a expiré : relancez la commande.",
        "recent.header_stories": "Dernières histoires signalées ({count})",
        "hits.usage": "Usage : /hits &lt;liste&gt; [24h|7d|30d], par exemple /hits wagner 7d.",
        "hits.header": "{name} — {count} histoire(s) depuis {period}",
        "hits.empty": "Aucune histoire pour {name} sur {period}.",
        "search.usage": "Usage : /search &lt;mots&gt;, par exemple /search Goïta Kati.",
        "search.header": "Résultats pour « {query} » ({count})",
        "search.empty": "Aucun article ne contient « {query} ».",
        "story.outlets": "{count} médias",
        "watchlists.header": "Listes de veille",
        "watchlists.line": "{terms} termes · {hits} histoire(s) sur 7 jours",
        "watchlists.muted": "🔇 en sourdine jusqu'au {until}",
        "feeds.header": "État des flux ({count})",
        "feeds.line": "dernier succès : {success} · échecs de suite : {failures} · 304 : {share} · articles 7 j : {items}",
        "feeds.never": "jamais",
        "feeds.pace": "interrogé toutes les {every}",
        "feeds.slowed": "interrogé toutes les {every} (configuré : {interval}, ralenti faute de nouveauté)",
        "feeds.cache": "cache annoncé : {cache}",
        "feeds.kind.rss": "RSS",
        "feeds.kind.atom": "Atom",
        "feeds.kind.json": "JSON Feed",
        "feeds.kind.channel": "canal Telegram",
        "feeds.kind.search": "recherche",
        "feeds.delay": "délai mesuré : {delay}",
        "stats.caption": "Histoires signalées par jour, {period} : {total} au total{details}",
        "stats.title": "Alertes par jour",
        "watch.usage": "Usage : /watch add &lt;liste&gt; &lt;terme&gt;, /watch remove &lt;liste&gt; &lt;terme&gt; ou /watch test &lt;texte&gt;.",
        "watch.added": "Terme « {term} » ajouté à {name}. Il s'applique dès maintenant.",
        "watch.removed": "Terme « {term} » retiré de {name}. Cela s'applique dès maintenant.",
        "watch.refused": "Modification refusée : {reason}",
        "watch.no_match": "Aucune liste ne correspond à ce texte.",
        "watch.match": "{name} : « {text} » correspond au terme « {term} » ({field}, score {score})",
        "watch.not_counted": "{name} : « {text} » ne compte pas pour le terme « {term} » : {why}",
        "watch.why.excluded": "exclu par « {detail} »",
        "watch.why.no_context": "aucun mot de contexte dans le texte",
        "watch.why.person": "nom d'une personne (« {detail} » à côté), aucune organisation nommée",
        "watch.why.glued": "des lettres collées après (une formule ou un code)",
        "watch.why.score": "score {detail} sous le seuil",
        "mute.usage": "Usage : /mute &lt;liste&gt; [24h|7d], /unmute &lt;liste&gt;.",
        "mute.done": "{name} en sourdine jusqu'au {until}. Les articles restent enregistrés.",
        "unmute.done": "{name} n'est plus en sourdine.",
        "feed.usage": "Usage : /feed add &lt;url&gt; [nom] ou /feed remove &lt;nom&gt;.",
        "feed.checking": "Vérification du flux…",
        "feed.bad_url": "Adresse refusée : {reason}",
        "feed.failed": "Ce flux n'a pas pu être lu : {reason}",
        "feed.added": "Flux « {name} » ajouté : {items} articles, dont {matched} auraient été signalés.",
        "feed.removed": "Flux « {name} » retiré.",
        "feed.unknown": "Aucun flux actif ne s'appelle « {name} ».",
        "report.title": "Rapport quotidien",
        "report.feeds": "Flux en échec : {failing} · sans succès depuis 24 h : {stale}",
        "report.hits": "Histoires sur 24 h : {hits}",
        "report.alerts": "Alertes : {sent} envoyées, {pending} en attente, {failed} refusées",
        "alert.matched": "Termes :",
        "alert.field.title": "titre",
        "alert.field.summary": "résumé",
        "alert.source": "Source",
        "alert.published": "publié",
        "alert.no_title": "(sans titre)",
        "alert.also": "Aussi rapporté par :",
        "digest.header": "🗞 {count} alertes regroupées",
        "admin.alert_refused": "⚠️ Telegram refuse les alertes pour {chat} :",
        "alert.outlets": "{count} médias",
        "recent.empty": "Aucune alerte pour l'instant.",
        "recent.bad_count": "Indiquez un nombre entre 1 et {max}, par exemple /recent 5.",
        "admin.watchlists_refused": "⚠️ Modification des listes de veille refusée ; "
        "les listes précédentes restent actives.",
        "admin.partnerships_refused": "⚠️ Modification du fichier des partenariats refusée ; "
        "le fichier précédent reste actif.",
        "admin.partnerships_off": "⚠️ Fichier des partenariats refusé ; les signaux de "
        "partenariat sont suspendus jusqu'à sa correction.",
        # Partnership map (/partners, weekly digest, python -m bot partners) --------------
        "partners.title": "Partenariats sécuritaires {period}",
        "partners.suppliers": "fournisseur",
        "partners.recipients": "bénéficiaire",
        "partners.period": "du {start} au {end}",
        "partners.period_day": "le {day}",
        "partners.pair": "{supplier} → {recipient}",
        "partners.none": "Aucun signal de partenariat {period}.",
        "partners.caption_total": "Signaux de partenariat {period} : {count}",
        "partners.caption_busiest": "En tête : {pair} ({count}, {kind})",
        "partners.caption_changes": "Par rapport à la période précédente : {changes}",
        "partners.caption_no_previous": "Aucun signal sur la période précédente.",
        "partners.caption_new": "Nouvelles paires : {pairs}",
        "partners.change": "{pair} : {count} ({change}), {kind}",
        "partners.separator": " ; ",
        "partners.more": "{count} autre(s)",
        # Plain text (callers escape): /partners answers and the weekly digest.
        "partners.usage": "Usage : /partners [7d|30d|90d] ou /partners <acteur>. Acteurs : {known}.",
        "partners.off": "Les signaux de partenariat ne sont pas activés (aucun fichier de partenariats).",
        "partners.actor_header": "Derniers signaux de partenariat : {actor}",
        "partners.actor_none": "Aucun signal de partenariat récent pour {actor}.",
        "partners.digest_title": "🤝 Partenariats de la semaine",
        "signal.header": "{supplier} → {recipient} : {kind}",
    },
    "en": {
        "cmd.help": (
            "<b>Sahel watch</b> reads French and English news and flags the articles that "
            "mention its watchlists (Canik Academy, Wagner/Africa Corps, FAMa, Bayraktar TB2, "
            "Assimi Goïta).\n\n"
            "/recent [n] — latest flagged stories\n"
            "/hits &lt;watchlist&gt; [24h|7d|30d] — stories for one watchlist\n"
            "/search &lt;words&gt; — search the articles\n"
            "/watchlists — the watchlists\n"
            "/feeds — feed health\n"
            "/stats [7d|30d] — chart of alerts per day\n"
            "/partners [30d|90d] — map of partnerships (who trains, arms, protects whom)\n"
            "/partners &lt;actor&gt; — an actor's latest signals, with their evidence\n"
            "/help — this help\n\n"
            "<b>Maintainers</b>\n"
            "/watch add|remove &lt;watchlist&gt; &lt;term&gt;, /watch test &lt;text&gt;\n"
            "/mute &lt;watchlist&gt; [period], /unmute &lt;watchlist&gt;\n"
            "/feed add &lt;url&gt; [name], /feed remove &lt;name&gt;"),
        "cmd.page": "page {page}/{pages}",
        "cmd.next": "Next ▶",
        "cmd.previous": "◀ Previous",
        "cmd.slow_down": "Easy 🙂: please wait a few seconds before the next command.",
        "cmd.not_admin": "Sorry, this command is for the bot's maintainers only.",
        "cmd.unknown_watchlist": "Unknown watchlist: “{name}”. Watchlists: {known}.",
        "cmd.bad_period": "Invalid period: “{value}”. For example 24h, 7d, 30d (90 days at most).",
        "cmd.too_long": "Argument too long (at most {max} characters).",
        "cmd.storage_failed": "That could not be saved right now (database unavailable or disk full): please try again later.",
        "cmd.expired": "This list has expired: run the command again.",
        "recent.header_stories": "Latest flagged stories ({count})",
        "hits.usage": "Usage: /hits &lt;watchlist&gt; [24h|7d|30d], for example /hits wagner 7d.",
        "hits.header": "{name} — {count} story(ies) in the last {period}",
        "hits.empty": "No story for {name} in the last {period}.",
        "search.usage": "Usage: /search &lt;words&gt;, for example /search Goita Kati.",
        "search.header": "Results for “{query}” ({count})",
        "search.empty": "No article contains “{query}”.",
        "story.outlets": "{count} outlets",
        "watchlists.header": "Watchlists",
        "watchlists.line": "{terms} terms · {hits} story(ies) in 7 days",
        "watchlists.muted": "🔇 muted until {until}",
        "feeds.header": "Feed health ({count})",
        "feeds.line": "last success: {success} · failures in a row: {failures} · 304: {share} · items 7 d: {items}",
        "feeds.never": "never",
        "feeds.pace": "polled every {every}",
        "feeds.slowed": "polled every {every} (configured: {interval}, slowed while nothing is new)",
        "feeds.cache": "announced cache: {cache}",
        "feeds.kind.rss": "RSS",
        "feeds.kind.atom": "Atom",
        "feeds.kind.json": "JSON Feed",
        "feeds.kind.channel": "Telegram channel",
        "feeds.kind.search": "search",
        "feeds.delay": "measured delay: {delay}",
        "stats.caption": "Flagged stories per day, {period}: {total} in all{details}",
        "stats.title": "Alerts per day",
        "watch.usage": "Usage: /watch add &lt;watchlist&gt; &lt;term&gt;, /watch remove &lt;watchlist&gt; &lt;term&gt; or /watch test &lt;text&gt;.",
        "watch.added": "Term “{term}” added to {name}. It applies from now on.",
        "watch.removed": "Term “{term}” removed from {name}. This applies from now on.",
        "watch.refused": "Change refused: {reason}",
        "watch.no_match": "No watchlist matches this text.",
        "watch.match": "{name}: “{text}” matches term “{term}” ({field}, score {score})",
        "watch.not_counted": "{name}: “{text}” does not count as term “{term}”: {why}",
        "watch.why.excluded": "excluded by “{detail}”",
        "watch.why.no_context": "no context word in the text",
        "watch.why.person": "a person's name (“{detail}” beside it), no organisation named",
        "watch.why.glued": "letters glued after it (a formula or a code)",
        "watch.why.score": "score {detail} under the threshold",
        "mute.usage": "Usage: /mute &lt;watchlist&gt; [24h|7d], /unmute &lt;watchlist&gt;.",
        "mute.done": "{name} muted until {until}. Articles are still stored.",
        "unmute.done": "{name} is no longer muted.",
        "feed.usage": "Usage: /feed add &lt;url&gt; [name] or /feed remove &lt;name&gt;.",
        "feed.checking": "Checking the feed…",
        "feed.bad_url": "Address refused: {reason}",
        "feed.failed": "This feed could not be read: {reason}",
        "feed.added": "Feed “{name}” added: {items} items, {matched} of which would have been flagged.",
        "feed.removed": "Feed “{name}” removed.",
        "feed.unknown": "No active feed is called “{name}”.",
        "report.title": "Daily report",
        "report.feeds": "Failing feeds: {failing} · no success for 24 h: {stale}",
        "report.hits": "Stories in 24 h: {hits}",
        "report.alerts": "Alerts: {sent} sent, {pending} pending, {failed} refused",
        "alert.matched": "Matched:",
        "alert.field.title": "title",
        "alert.field.summary": "summary",
        "alert.source": "Source",
        "alert.published": "published",
        "alert.no_title": "(untitled)",
        "alert.also": "Also reported by:",
        "digest.header": "🗞 {count} alerts in one message",
        "admin.alert_refused": "⚠️ Telegram refuses alerts for {chat}:",
        "alert.outlets": "{count} outlets",
        "recent.empty": "No alerts yet.",
        "recent.bad_count": "Give a number from 1 to {max}, for example /recent 5.",
        "admin.watchlists_refused": "⚠️ Watchlist edit refused; the previous watchlists "
        "stay active.",
        "admin.partnerships_refused": "⚠️ Partnership file edit refused; the previous file "
        "stays active.",
        "admin.partnerships_off": "⚠️ Partnership file refused; partnership signals are off "
        "until it is mended.",
        # Partnership map (/partners, weekly digest, python -m bot partners) --------------
        "partners.title": "Security partnerships {period}",
        "partners.suppliers": "supplier",
        "partners.recipients": "recipient",
        "partners.period": "from {start} to {end}",
        "partners.period_day": "on {day}",
        "partners.pair": "{supplier} → {recipient}",
        "partners.none": "No partnership signal {period}.",
        "partners.caption_total": "Partnership signals {period}: {count}",
        "partners.caption_busiest": "Busiest: {pair} ({count}, {kind})",
        "partners.caption_changes": "Against the previous period: {changes}",
        "partners.caption_no_previous": "No signal in the previous period.",
        "partners.caption_new": "New pairs: {pairs}",
        "partners.change": "{pair}: {count} ({change}), {kind}",
        "partners.separator": "; ",
        "partners.more": "{count} more",
        # Plain text (callers escape): /partners answers and the weekly digest.
        "partners.usage": "Usage: /partners [7d|30d|90d] or /partners <actor>. Actors: {known}.",
        "partners.off": "Partnership signals are off (no partnership file).",
        "signal.header": "{supplier} → {recipient}: {kind}",
        "partners.actor_header": "Latest partnership signals: {actor}",
        "partners.actor_none": "No recent partnership signal for {actor}.",
        "partners.digest_title": "🤝 This week's partnerships",
    },
}

MONTHS = {
    "fr": ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
           "nov.", "déc."),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}


def pick_language(code: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """French or English from a Telegram language code such as "fr-FR" or "en"."""
    if code:
        prefix = code.split("-")[0].lower()
        if prefix in LANGUAGES:
            return prefix
    return default if default in LANGUAGES else DEFAULT_LANGUAGE


def t(lang: str, key: str, **values: object) -> str:
    """The message ``key`` in ``lang``, with ``values`` filled in."""
    template = MESSAGES.get(lang, MESSAGES[DEFAULT_LANGUAGE])[key]
    return template.format(**values) if values else template

