"""Discord front end: discord.py events and interactions in, neutral events to the chat service.

The adapter translates and decides nothing. Slash commands (`/headshots start` ...) become Command
events; DMs with attachments become Photo events (the attachments of one message share a group, so
they get one reply); buttons are DynamicItems whose custom id carries our callback data, registered
at start-up, so a button sent before a restart still works after it. Every interaction is
acknowledged first (Discord drops it after 3 s), then handed to the service, whose answers go out
with the bot's own token (see DiscordSink), never through the 15-minute interaction token.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import time
from typing import Any

import discord
from discord import app_commands

from bot.chat.events import Button, ChatRef, Command, Event, Photo, Press, Text, Unsupported
from bot.fronts.discord.commands import GROUP, commands_group
from bot.fronts.discord.translator import CatalogTranslator
from bot.service.chat_service import ChatService
from bot.text.i18n import N_, pick_language, speaking, t
from core.settings import Settings

log = logging.getLogger(__name__)

PREFIX = "hs:"
COMMAND_PREFIX = f"/{GROUP} "  # the commands are subcommands of one /headshots command
MAX_ROWS, MAX_PER_ROW = 5, 5  # Discord's limits on buttons in one message
IN_DMS = N_("I answered in our DMs.")
DMS_CLOSED = N_(
    "I can't send you a direct message: allow DMs from this server's members, then try again."
)


class PressButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"hs:(?P<data>.+)"):
    """A button whose custom id carries our callback data; works for any message, any time."""

    def __init__(self, label: str, data: str) -> None:
        super().__init__(discord.ui.Button(label=label[:80], custom_id=f"{PREFIX}{data}"))
        self.data = data

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> PressButton:
        """Rebuild the button from a press on any message."""
        return cls(getattr(item, "label", None) or "", match["data"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Acknowledge at once, then hand the press to the client."""
        if not getattr(interaction.client, "accepting", False):
            return  # shutting down: unanswered, Discord tells the person to try again
        await interaction.response.defer()
        interaction.client.dispatch("headshots_press", interaction, self.data)


def button_view(rows: tuple[tuple[Button, ...], ...]) -> discord.ui.View | None:
    """Return a view of our buttons, reflowed into Discord's 5 rows of 5 when needed."""
    if not rows:
        return None
    if len(rows) > MAX_ROWS or any(len(row) > MAX_PER_ROW for row in rows):
        flat = [button for row in rows for button in row]
        if len(flat) > MAX_ROWS * MAX_PER_ROW:
            log.warning("%d buttons do not fit in one Discord message", len(flat))
        flat = flat[: MAX_ROWS * MAX_PER_ROW]
        rows = tuple(tuple(flat[i : i + MAX_PER_ROW]) for i in range(0, len(flat), MAX_PER_ROW))
    view = discord.ui.View(timeout=None)
    for index, row in enumerate(rows):
        for button in row:
            item = _item(button)
            item.row = index
            view.add_item(item)
    return view


def _item(button: Button) -> discord.ui.Item[Any]:
    if button.url:  # a link button: Discord opens it in the browser, no press comes back
        return discord.ui.Button(label=button.label[:80], url=button.url)
    return PressButton(button.label, button.data)


class HeadshotsClient(discord.Client):
    """The bot's discord.py client: app commands, DMs and button presses."""

    def __init__(self, settings: Settings) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        intents.dm_messages = True
        super().__init__(intents=intents)
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(commands_group(self.run_command))
        self._settings = settings
        self._service: ChatService | None = None
        self.accepting = True

    def serve(self, service: ChatService) -> None:
        """Hand events to `service` from now on."""
        self._service = service

    async def setup_hook(self) -> None:
        """Register the buttons and sync the slash commands, described in every language."""
        self.add_dynamic_items(PressButton)
        await self.tree.set_translator(CatalogTranslator())
        guild_id = self._settings.discord_guild_id
        if guild_id is None:
            await self.tree.sync()
            return
        guild = discord.Object(id=guild_id)
        self.tree.copy_global_to(guild=guild)
        await self.tree.sync(guild=guild)  # at once in the test server
        # Globally as well: DMs only ever see global commands (Discord takes up to an hour).
        await self.tree.sync()

    async def on_message(self, message: discord.Message) -> None:
        """Translate a DM from a person; ignore guild messages and the bot's own."""
        if message.author.bot or message.guild is not None or not self._ready_for_events():
            return
        chat = ChatRef("discord", str(message.channel.id), str(message.author.id))
        assert self._service is not None
        refusal = await self._service.photo_refusal(chat) if message.attachments else None
        events = [refusal] if refusal else await to_events(message, self._settings.max_upload_bytes)
        for event in events:
            await self._handle(chat, event)

    async def on_headshots_press(self, interaction: discord.Interaction[Any], data: str) -> None:
        """Hand a (already acknowledged) button press to the service."""
        if interaction.channel_id is None or not self._ready_for_events():
            return
        chat = ChatRef("discord", str(interaction.channel_id), str(interaction.user.id))
        await self._handle(chat, Press(data), str(interaction.locale))

    async def run_command(
        self, interaction: discord.Interaction[Any], name: str, args: str = ""
    ) -> None:
        """Acknowledge a slash command at once, answer it in the person's DM, tidy up."""
        received = time.monotonic()
        if not self._ready_for_events():
            return  # shutting down: unanswered, Discord tells the person to try again
        await interaction.response.defer(ephemeral=True, thinking=True)
        channel = interaction.channel  # a server channel or a group DM: answer in the person's DM
        in_dm = channel is not None and channel.type == discord.ChannelType.private
        note: str | None = None if in_dm else self._note(IN_DMS, interaction)
        try:
            channel_id = (
                interaction.channel_id if in_dm else (await interaction.user.create_dm()).id
            )
            chat = ChatRef("discord", str(channel_id), str(interaction.user.id))
            await self._handle(chat, Command(name, args), str(interaction.locale))
        except discord.Forbidden:  # the person does not accept DMs from this server's members
            note = self._note(DMS_CLOSED, interaction)
        if time.monotonic() - received < self._settings.discord_interaction_token_s * 0.9:
            await _tidy(interaction, note)  # else the token has (nearly) expired: leave it be

    async def _handle(self, chat: ChatRef, event: Event, language: str = "") -> None:
        """Hand the event on; `language` is the interaction's locale (DMs carry none)."""
        assert self._service is not None
        await self._service.handle(chat, event, language)

    def _note(self, text: str, interaction: discord.Interaction[Any]) -> str:
        """Return a note on the interaction itself, in its locale (no session is at hand)."""
        with speaking(pick_language(str(interaction.locale), self._settings.language)):
            return t(text)

    def _ready_for_events(self) -> bool:
        return self.accepting and self._service is not None


async def _tidy(interaction: discord.Interaction[Any], note: str | None) -> None:
    """Replace the "thinking" placeholder with `note`, or remove it when there is none."""
    try:
        if note is None:
            await interaction.delete_original_response()
        else:
            await interaction.edit_original_response(content=note)
    except discord.HTTPException as exc:
        log.info("could not tidy up interaction %s: %s", interaction.id, exc)


async def to_events(message: discord.Message, max_bytes: int) -> list[Event]:
    """Translate one DM; downloads image attachments within the size limit."""
    if message.attachments:
        group = str(message.id) if len(message.attachments) > 1 else None
        return [await _attachment(a, max_bytes, group) for a in message.attachments]
    if message.stickers:
        return [Unsupported("sticker")]
    text = message.content
    if text.startswith("/"):
        word, _, args = text[1:].partition(" ")
        return [Command(word.lower(), args.strip())]
    return [Text(text)]


async def _attachment(attachment: discord.Attachment, max_bytes: int, group: str | None) -> Event:
    # Discord leaves out the content type of some uploads; the file name still tells.
    content_type = attachment.content_type or mimetypes.guess_type(attachment.filename)[0] or ""
    if not content_type.startswith("image/"):
        return Unsupported("document", attachment.size)
    if attachment.size > max_bytes:
        return Unsupported("too_large", attachment.size)
    try:
        data = await attachment.read()
    except discord.HTTPException as exc:
        log.warning("could not fetch attachment %s: %s", attachment.id, exc)
        return Unsupported("download_failed")
    return Photo(data, str(attachment.id), attachment.filename, group)
