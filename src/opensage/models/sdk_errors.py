"""Turns the exceptions of the official `openai` and `anthropic` SDKs into `ModelError`s.

Both SDKs share one shape (APIStatusError with `.status_code` and `.response`, APITimeoutError
under APIConnectionError), so one mapping serves both; the SDK module is passed in so that
neither is imported unless used.
"""

from __future__ import annotations

from types import ModuleType

from opensage.models.base import (
    ModelAuthError,
    ModelBadRequestError,
    ModelError,
    ModelNotFoundError,
    ModelRateLimitError,
    ModelServerError,
    ModelTimeoutError,
    ModelUnreachableError,
)


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:  # an HTTP date; rare enough to fall back to backoff
        return None


def map_sdk_error(sdk: ModuleType, exc: Exception, *, model: str, endpoint: str) -> ModelError:
    where = f"{endpoint} (model {model!r})"
    if isinstance(exc, sdk.APITimeoutError):
        return ModelTimeoutError(f"request to {where} timed out")
    if isinstance(exc, sdk.APIConnectionError):
        return ModelUnreachableError(
            f"cannot reach {where}: {exc}. Is the server running and the base URL right?"
        )
    if not isinstance(exc, sdk.APIStatusError):
        return ModelError(f"{where}: {type(exc).__name__}: {exc}")
    status = exc.status_code
    detail = getattr(exc, "message", str(exc))
    if status in (401, 403):
        return ModelAuthError(
            f"{where} refused the API key ({status}): {detail}. Check the key for this endpoint."
        )
    if status == 404:
        return ModelNotFoundError(
            f"{where} answered 404: {detail}. Check the model name and the base URL."
        )
    if status == 429:
        return ModelRateLimitError(
            f"{where} rate-limited the request: {detail}", retry_after=_retry_after(exc)
        )
    if status >= 500:
        return ModelServerError(
            f"{where} failed with {status}: {detail}", retry_after=_retry_after(exc)
        )
    return ModelBadRequestError(f"{where} rejected the request ({status}): {detail}")
