"""The one typed settings object, read from `HEADSHOTS_*` environment variables and `.env`.

It lives in `storage`, the bottom layer, so that `engine` and `bot` can both import it without
breaking the dependency direction of DESIGN.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self
from urllib.parse import urlparse

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import ConfigError

ENV_PREFIX = "HEADSHOTS_"


class Settings(BaseSettings):
    """Every knob of the bot, the worker and storage, validated at start-up."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True
    )

    redis_url: str = Field(
        "redis://127.0.0.1:6379/0", description="Redis for state, the job queue and progress."
    )
    storage_url: str = Field(
        "file://./data/blobs",
        description="Blob store: file:///absolute/path, file://./relative, or s3://bucket/prefix.",
    )
    s3_endpoint_url: str | None = Field(
        None, description="S3-compatible endpoint (MinIO, R2, ...); unset means AWS."
    )
    s3_region: str = Field("us-east-1", description="S3 region name.")
    s3_access_key_id: SecretStr | None = Field(None, description="S3 access key id.")
    s3_secret_access_key: SecretStr | None = Field(None, description="S3 secret access key.")
    blob_encryption_key: SecretStr | None = Field(
        None, description="Base64 32-byte key: encrypt every blob at rest (AES-256-GCM)."
    )
    base_model: str = Field(
        "stabilityai/stable-diffusion-xl-base-1.0",
        description="Diffusers base model: a hub id already in the local cache, or a folder.",
    )
    train_max_steps: int = Field(
        500, ge=1, description="Cap on LoRA training steps (steps grow with the photo count)."
    )
    train_steps_per_photo: int = Field(
        40, ge=1, le=200, description="LoRA training steps per accepted photo (then capped)."
    )
    train_min_steps: int = Field(
        150,
        ge=1,
        description="Fewest LoRA training steps, however few the photos (the cap still wins).",
    )
    train_learning_rate: float = Field(
        1e-4, gt=0, le=1e-2, description="LoRA learning rate (fewer steps want a higher one)."
    )
    train_batch_size: int = Field(
        1, ge=1, le=16, description="Photos per LoRA training step (more use a large GPU better)."
    )
    train_cache_inputs: bool = Field(
        True,
        description="Encode the photos' latents and the caption once per run, not every step.",
    )
    train_unet_only: bool = Field(
        True, description="Train the LoRA on the UNet only; false also trains the text encoders."
    )
    train_fused_adamw: bool = Field(
        True, description="Use AdamW's fused kernel (one launch per step on CUDA)."
    )
    train_compile: bool = Field(
        False,
        description="torch.compile the UNet for training; it recompiles for every job's adapter,"
        " so it pays only on long runs (measure with bench/gpu_pack.py).",
    )
    studio_attention: str = Field(
        "sdpa",
        pattern=r"^(sdpa|eager)$",
        description="UNet attention: sdpa (torch's fused scaled_dot_product_attention) or eager.",
    )
    studio_acceleration: str = Field(
        "",
        description="Few-step acceleration LoRA of the studio tier, stacked on the person's: a"
        " .safetensors file, a folder, or a hub id in the local cache (ByteDance/Hyper-SD,"
        " ByteDance/SDXL-Lightning; openrail++); empty: off, styles render at their own steps.",
    )
    studio_acceleration_recipe: str = Field(
        "hyper-sd-8-cfg",
        pattern=r"^(hyper-sd-8-cfg|lightning-8)$",
        description="Sampler, steps and guidance of that LoRA: hyper-sd-8-cfg (DDIM trailing, 8"
        " steps, guidance 5) or lightning-8 (Euler trailing, 8 steps, guidance 0).",
    )
    studio_acceleration_weight: str = Field(
        "",
        description="The LoRA's file name in that folder or repository; empty: the recipe's"
        " (Hyper-SDXL-8steps-CFG-lora.safetensors, sdxl_lightning_8step_lora.safetensors).",
    )
    hires_px: int = Field(
        0, ge=0, le=4096, description="Long side of a second, high-resolution pass; 0 is off."
    )
    train_grey_background: bool = Field(
        False, description="Replace the selfies' backgrounds with flat grey before training."
    )
    render_batch: int = Field(
        1, ge=1, le=16, description="Images rendered per pipeline call (same style and aspect)."
    )
    express_model: str = Field(
        "black-forest-labs/FLUX.2-klein-4B",
        description="Express tier model (FLUX.2 klein): a hub id in the local cache, or a folder.",
    )
    express_references: int = Field(
        3, ge=1, le=4, description="Most selfies given to each express image as references."
    )
    express_reference_px: int = Field(
        512, ge=64, le=1024, description="Side of each express reference (its token cost)."
    )
    express_batch: int = Field(
        4, ge=1, le=16, description="Express images per pipeline call (they share references)."
    )
    telegram_token: SecretStr | None = Field(
        None, description="Telegram bot token from @BotFather."
    )
    telegram_base_url: str = Field(
        "https://api.telegram.org/bot", description="Bot API base (a self-hosted server or a fake)."
    )
    telegram_base_file_url: str = Field(
        "https://api.telegram.org/file/bot", description="Bot API file download base."
    )
    discord_token: SecretStr | None = Field(None, description="Discord bot token.")
    discord_guild_id: int | None = Field(
        None, description="Sync slash commands to this guild only (instant, for development)."
    )
    discord_api_base: str = Field(
        "https://discord.com/api/v10", description="Discord REST base (a fake in tests)."
    )
    discord_gateway_url: str = Field(
        "wss://gateway.discord.gg/", description="Discord gateway URL (a fake in tests)."
    )
    discord_max_file_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Largest file the bot uploads to Discord."
    )
    discord_interaction_token_s: float = Field(
        900.0, gt=0, description="Lifetime of an interaction token; later edits use the bot token."
    )
    min_selfies: int = Field(6, ge=1, description="Fewest accepted selfies that make a set.")
    max_selfies: int = Field(20, ge=1, description="Most selfies kept in one set.")
    max_upload_bytes: int = Field(
        20 * 1024 * 1024,
        ge=1024,
        description="Largest photo file accepted (Telegram's getFile cap).",
    )
    log_level: str = Field("INFO", description="Python logging level.")
    language: str = Field(
        "",
        description=(
            "Answer in this language (a catalog in bot/text/locale: de, es, fr, pt_BR) unless the"
            " person picks another with /language; empty: each person's own language from their"
            " chat app, English where there is no catalog."
        ),
    )
    evaluate_min_same_person: float = Field(
        0.9, ge=0, le=1, description="Share of a pack's images that must be the person to pass."
    )
    evaluate_max_near_copies: int = Field(
        0, ge=0, description="Most near-copies of a selfie a pack may hold and still pass."
    )
    studio: str = Field(
        "engine.studio.lora.backend:load_studio",
        description="Studio tier factory (module:callable, called once per worker); empty: off.",
    )
    express_studio: str = Field(
        "",
        description=(
            "Express tier factory (module:callable), e.g."
            " engine.studio.express.backend:load_express_studio; empty: off."
        ),
    )
    pack_timeout_s: int = Field(
        7200, ge=1, description="Longest one pack job may run before it fails as too slow."
    )
    pack_max_tries: int = Field(
        3, ge=1, description="Runs of one pack (after crashes or restarts) before it is failed."
    )
    worker_poll_delay_s: float = Field(
        0.5, gt=0, description="Seconds between the worker's polls of the queue."
    )
    worker_lease_s: float = Field(
        30.0, gt=0, description="Heartbeat lease of a running job; a dead worker's job re-runs."
    )
    job_ttl_s: int = Field(
        8 * 24 * 3600,
        ge=60,
        description="How long job records and progress streams are kept; longer than the results "
        "retention, so the retention sweep still finds every ended job.",
    )
    progress_interval_s: float = Field(
        1.0, ge=0, description="Fewest seconds between two progress events of one job."
    )
    notifier_edit_interval_s: float = Field(
        1.0, ge=0, description="Fewest seconds between two progress edits in one chat."
    )
    notifier_consumer: str = Field(
        "", description="Stable consumer name of this bot replica; empty means the host name."
    )
    notifier_claim_idle_s: float = Field(
        60.0, gt=0, description="Idle seconds after which a replica takes over unacked events."
    )
    gate_workers: int = Field(
        2, ge=1, le=32, description="Processes checking selfies (each loads the face models)."
    )
    album_wait_s: float = Field(
        0.8, gt=0, le=10, description="Quiet time that ends an album sent as separate updates."
    )
    max_styles: int = Field(4, ge=1, le=12, description="Most style packs one order may pick.")
    packs_per_day: int = Field(3, ge=1, description="Packs one person may start per UTC day.")
    rerolls_per_day: int = Field(
        12, ge=0, description="Re-rolls and 'more like this' one person may ask for per UTC day."
    )
    max_queue_length: int = Field(
        100, ge=1, description="Packs waiting before new ones get a polite 'busy, try later'."
    )
    allowed_users: list[str] = Field(
        default_factory=list,
        description='Private deployments: JSON list like ["telegram:123"]; empty allows everyone.',
    )
    selfies_retention_hours: int = Field(
        24, ge=0, description="Hours selfies and the LoRA are kept after the pack is delivered."
    )
    results_retention_days: int = Field(7, ge=1, description="Days delivered results are kept.")
    abandoned_session_hours: int = Field(
        48, ge=1, description="Hours an unfinished conversation and its selfies are kept."
    )
    telegram_webhook_url: str | None = Field(
        None, description="Public HTTPS URL for webhook mode; unset means long polling."
    )
    telegram_webhook_secret: SecretStr | None = Field(
        None, description="Secret token Telegram sends in each webhook request's header."
    )
    telegram_webhook_listen: str = Field("0.0.0.0", description="Webhook server bind address.")
    telegram_webhook_port: int = Field(8443, ge=1, le=65535, description="Webhook server port.")
    brand_colour: str = Field(
        "#0A66C2",
        pattern=r"^#[0-9A-Fa-f]{6}$",
        description="Brand colour (#RRGGBB) of the profile kit's banner and the brand backdrop.",
    )
    retouch_background: str = Field(
        "grey",
        pattern=r"^(grey|white|dark|blur|brand|#[0-9A-Fa-f]{6})$",
        description="Backdrop of the instant retouch: grey, white, dark, blur, brand or #RRGGBB.",
    )
    retouch_aspect: str = Field(
        "1:1", pattern=r"^(1:1|4:5)$", description="Instant retouch frame: 1:1 or 4:5."
    )
    ops_port: int = Field(
        0, ge=0, le=65535, description="Port of /healthz and Prometheus /metrics; 0 is off."
    )
    ops_listen: str = Field("127.0.0.1", description="Bind address of /healthz and /metrics.")
    public_url: str | None = Field(
        None,
        description="Public HTTPS address of the gallery server (e.g. https://bot.example.com);"
        " unset means no gallery: no Open gallery button, no links.",
    )
    gallery_secret: SecretStr | None = Field(
        None,
        description="Server secret signing gallery links and sessions (`openssl rand -hex 32`);"
        " required with HEADSHOTS_PUBLIC_URL, the same on every bot replica.",
    )
    gallery_listen: str = Field("0.0.0.0", description="Bind address of the gallery server.")
    gallery_port: int = Field(8080, ge=1, le=65535, description="Port of the gallery server.")
    gallery_auth_max_age_s: int = Field(
        3600, ge=10, description="Oldest Telegram Mini App init data (auth_date) accepted."
    )
    gallery_link_ttl_s: int = Field(
        86400, ge=60, description="How long a signed gallery link (Discord, console) opens."
    )
    gallery_session_ttl_s: int = Field(
        3600, ge=60, description="How long an opened gallery page may fetch images and act."
    )
    log_format: str = Field(
        "text", pattern=r"^(text|json)$", description="Log lines as text, or one JSON object each."
    )

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if urlparse(value).scheme not in {"redis", "rediss", "unix"}:
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("storage_url")
    @classmethod
    def _storage_scheme(cls, value: str) -> str:
        parsed = urlparse(value)
        if parsed.scheme == "s3" and not parsed.netloc:
            raise ValueError("s3:// needs a bucket, e.g. s3://headshots/prod")
        if parsed.scheme not in {"file", "s3"}:
            raise ValueError("must start with file:// or s3://")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @model_validator(mode="after")
    def _records_outlive_results(self) -> Self:
        if self.job_ttl_s <= self.results_retention_days * 86400:
            raise ValueError(
                "HEADSHOTS_JOB_TTL_S must exceed HEADSHOTS_RESULTS_RETENTION_DAYS (in seconds): "
                "the retention sweep finds ended packs through their job records"
            )
        return self

    @model_validator(mode="after")
    def _selfie_range(self) -> Self:
        if self.min_selfies > self.max_selfies:
            raise ValueError("HEADSHOTS_MIN_SELFIES must not exceed HEADSHOTS_MAX_SELFIES")
        return self

    @field_validator("public_url")
    @classmethod
    def _public_https(cls, value: str | None) -> str | None:
        if value is not None and (urlparse(value).scheme != "https" or not urlparse(value).netloc):
            raise ValueError("must be an https:// address (Telegram opens Mini Apps only so)")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _gallery_signed(self) -> Self:
        if self.public_url and self.gallery_secret is None:
            raise ValueError("HEADSHOTS_GALLERY_SECRET must be set with HEADSHOTS_PUBLIC_URL")
        return self

    def local_storage_root(self) -> Path:
        """Return the folder of a file:// storage URL (relative paths resolve from the cwd)."""
        parsed = urlparse(self.storage_url)
        return Path(parsed.netloc + parsed.path).resolve()


def secret_values(settings: Settings) -> list[str]:
    """Return the values of every secret setting that is set, for scrubbing logs."""
    values = [getattr(settings, name) for name in type(settings).model_fields]
    return [value.get_secret_value() for value in values if isinstance(value, SecretStr)]


def load_settings(**overrides: object) -> Settings:
    """Build Settings from the environment, raising ConfigError with one line per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        name = f"{ENV_PREFIX}{field.upper()}" if field else "settings"
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"{name}: {message}")
    return "\n".join(lines)
