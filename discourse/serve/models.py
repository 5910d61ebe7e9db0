"""Perspective's request and response shapes, and how our toxicity labels map to its attributes.

The request follows Perspective's ``AnalyzeCommentRequest`` (comment, context, requestedAttributes,
spanAnnotations, languages, doNotStore, clientToken, sessionId, communityId); like the Google API,
an unknown field is an error rather than silently ignored. The response is its
``AnalyzeCommentResponse``: ``attributeScores.<ATTR>.summaryScore {value, type}``, ``spanScores``
when asked, ``languages``, ``clientToken``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from discourse.formats.reading import replace_surrogates
from discourse.serve.errors import ApiError
from discourse.stages.toxicity.result import ToxicityResult

SCORE_TYPE = "PROBABILITY"

ATTRIBUTES: dict[str, tuple[str, str]] = {
    # Perspective attribute -> (our product label, tox-block's label it falls back to)
    "TOXICITY": ("toxicity", "toxic"),
    "SEVERE_TOXICITY": ("severe_toxicity", "severe_toxic"),
    "INSULT": ("insult", "insult"),
    "THREAT": ("threat", "threat"),
    "PROFANITY": ("profanity", "obscene"),
    "IDENTITY_ATTACK": ("identity_attack", "identity_hate"),
}
"""TOXICITY without either label is the result's overall score."""

LANGUAGES = ("en",)  # every shipped toxicity model reads English


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextEntry(_Strict):
    text: str = ""
    type: str | None = None


class ArticleAndParentComment(_Strict):
    article: TextEntry | None = None
    parentComment: TextEntry | None = None


class Context(_Strict):
    entries: list[TextEntry] = Field(default_factory=list)
    articleAndParentComment: ArticleAndParentComment | None = None


class AttributeParameters(_Strict):
    scoreType: str | None = None
    scoreThreshold: float | None = Field(default=None, ge=0.0, le=1.0)


class AnalyzeCommentRequest(_Strict):
    comment: TextEntry
    context: Context | None = None
    requestedAttributes: dict[str, AttributeParameters]
    spanAnnotations: bool = False
    languages: list[str] = Field(default_factory=list)
    doNotStore: bool = True  # accepted either way: the server never stores anything
    clientToken: str | None = None
    sessionId: str | None = None
    communityId: str | None = None


def parse_request(data: Any, max_comment_bytes: int) -> AnalyzeCommentRequest:
    """Validate a decoded JSON body; raise :class:`ApiError` (400, or 413 for a too-long comment)."""
    try:
        req = AnalyzeCommentRequest.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()[:3]]
        raise ApiError(400, "Invalid JSON payload received. " + "; ".join(problems)) from None
    # JSON may carry a lone surrogate ("\ud83d", half an emoji): it has no UTF-8 form. U+FFFD takes its
    # place, one code point for one, so span offsets still index the client's text.
    req.comment.text, _ = replace_surrogates(req.comment.text)
    if not req.comment.text.strip():
        raise ApiError(400, "Comment must be non-empty.")
    if req.comment.type not in (None, "PLAIN_TEXT"):
        raise ApiError(400, f"comment.type {req.comment.type!r} is not supported; only PLAIN_TEXT is.")
    size = len(req.comment.text.encode("utf-8"))
    if size > max_comment_bytes:
        raise ApiError(413, f"Comment text too long: {size} bytes, the limit is {max_comment_bytes} bytes.")
    if not req.requestedAttributes:
        raise ApiError(400, "requestedAttributes must name at least one attribute.")
    unknown = [a for a in req.requestedAttributes if a not in ATTRIBUTES]
    if unknown:
        raise ApiError(400, f"Attribute {unknown[0]} does not exist. Available attributes: {', '.join(ATTRIBUTES)}.")
    for name, params in req.requestedAttributes.items():
        if params.scoreType not in (None, SCORE_TYPE):
            raise ApiError(400, f"Attribute {name}: scoreType {params.scoreType!r} is not supported; use PROBABILITY.")
    langs = [lang.lower().split("-")[0] for lang in req.languages]
    if langs and not any(lang in LANGUAGES for lang in langs):
        first = next(iter(req.requestedAttributes))
        raise ApiError(400, f"Attribute {first} does not support request languages: {', '.join(req.languages)}")
    return req


_SENTENCE = re.compile(r"\S.*?(?:[.!?]+(?=\s|$)|\n|$)", re.S)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``[begin, end)`` of each sentence (split at . ! ? before a space, and at line breaks),
    in Python string indices (Unicode code points), trailing spaces excluded."""
    spans = []
    for m in _SENTENCE.finditer(text):
        end = m.start() + len(m.group().rstrip())
        if end > m.start():
            spans.append((m.start(), end))
    return spans


def attribute_score(result: ToxicityResult, attribute: str) -> float | None:
    """Our score for one Perspective attribute, or None when the model has no such label."""
    ours, toxblock = ATTRIBUTES[attribute]
    labels = result.labels
    if ours in labels:
        return float(labels[ours])
    if attribute == "TOXICITY":
        return float(result.score)
    if toxblock in labels:
        return float(labels[toxblock])
    return None


def _score(value: float) -> dict[str, Any]:
    return {"value": round(value, 6), "type": SCORE_TYPE}


def build_response(
    req: AnalyzeCommentRequest,
    summary: ToxicityResult,
    spans: Sequence[tuple[tuple[int, int], ToxicityResult]] = (),
) -> dict[str, Any]:
    """The AnalyzeCommentResponse for one request: ``summary`` scores the whole comment, ``spans``
    each sentence (only when the request asked for spanAnnotations)."""
    scores: dict[str, Any] = {}
    for name, params in req.requestedAttributes.items():
        value = attribute_score(summary, name)
        if value is None:
            raise ApiError(400, f"Attribute {name} is not available from model {summary.model}.")
        threshold = params.scoreThreshold or 0.0
        if value < threshold:  # Perspective leaves out scores under the threshold
            continue
        entry: dict[str, Any] = {"summaryScore": _score(value)}
        if req.spanAnnotations:
            span_scores = []
            for (begin, end), result in spans:
                v = attribute_score(result, name)
                if v is not None and v >= threshold:
                    span_scores.append({"begin": begin, "end": end, "score": _score(v)})
            entry["spanScores"] = span_scores
        scores[name] = entry
    out: dict[str, Any] = {"attributeScores": scores, "languages": list(req.languages) or list(LANGUAGES)}
    if req.clientToken is not None:
        out["clientToken"] = req.clientToken
    return out


def model_list(records: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [records[name].to_json() for name in sorted(records)]


def discovery_document(root_url: str) -> dict[str, Any]:
    """A Google API discovery document for ``comments.analyze`` rooted at this server, so a client
    built with ``googleapiclient.discovery.build(..., discoveryServiceUrl=...)`` needs only that URL
    changed."""
    root = root_url if root_url.endswith("/") else root_url + "/"
    return {
        "kind": "discovery#restDescription",
        "discoveryVersion": "v1",
        "id": "commentanalyzer:v1alpha1",
        "name": "commentanalyzer",
        "version": "v1alpha1",
        "title": "Perspective Comment Analyzer API (discourse serve)",
        "protocol": "rest",
        "rootUrl": root,
        "servicePath": "",
        "baseUrl": root,
        "batchPath": "batch",
        "parameters": {
            "key": {"type": "string", "location": "query", "description": "API key"},
            "alt": {"type": "string", "location": "query", "default": "json", "enum": ["json"]},
        },
        "schemas": {
            "AnalyzeCommentRequest": {"id": "AnalyzeCommentRequest", "type": "object"},
            "AnalyzeCommentResponse": {"id": "AnalyzeCommentResponse", "type": "object"},
        },
        "resources": {
            "comments": {
                "methods": {
                    "analyze": {
                        "id": "commentanalyzer.comments.analyze",
                        "path": "v1alpha1/comments:analyze",
                        "flatPath": "v1alpha1/comments:analyze",
                        "httpMethod": "POST",
                        "parameters": {},
                        "parameterOrder": [],
                        "request": {"$ref": "AnalyzeCommentRequest"},
                        "response": {"$ref": "AnalyzeCommentResponse"},
                    }
                }
            }
        },
    }
