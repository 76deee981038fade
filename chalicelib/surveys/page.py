"""The hosted survey page for visitors who come from the email: plain HTML, one small script, a
strict Content-Security-Policy, and the survey's state (open, answered, expired) shown as text, in
the language the survey was sent in (else the browser's)."""
from __future__ import annotations

import html

from chalice import Response

from ..errors import ApiError
from ..i18n import Locale, text
from ..mail.pages import html_page, page_locale
from ..storage.settings import Settings
from ..storage.tenants import TenantModel
from .service import Expired, survey_for_token, token_locale

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
       "form-action 'none'; base-uri 'none'; frame-ancestors 'none'")

# The script holds no text: the page gives it its words in data-* attributes of the form.
SCRIPT = """// Sends the rating as JSON to POST /v1/surveys/{token}; the token is the page's own path.
const form = document.getElementById("survey");
const status = document.getElementById("status");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = decodeURIComponent(location.pathname.split("/").pop());
  const rating = Number(new FormData(form).get("rating"));
  const comment = document.getElementById("comment").value.trim();
  if (!rating) { status.textContent = form.dataset.choose; return; }
  let response;
  try {
    response = await fetch(`../v1/surveys/${encodeURIComponent(token)}`, {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify(comment ? {rating, comment} : {rating}),
    });
  } catch {
    status.textContent = form.dataset.failed;
    return;
  }
  const said = {200: "thanks", 409: "answered", 410: "expired"}[response.status] || "failed";
  status.textContent = form.dataset[said];
  if (said !== "failed") form.hidden = true;
});
"""


def _page(lang: Locale, title: str, paragraph_or_form: str, status: int = 200) -> Response:
    return html_page(text(lang, title), paragraph_or_form, status, CSP, lang)


def _paragraph(lang: Locale, key: str) -> str:
    return f"<p>{html.escape(text(lang, key))}</p>"


def survey_page(token: str, accept_language_header: str | None) -> Response:
    lang = page_locale(token_locale(token), accept_language_header)
    try:
        survey = survey_for_token(token)
    except Expired:
        return _page(lang, "pages.survey_expired_title", _paragraph(lang, "pages.survey_expired"), 410)
    except ApiError:
        return _page(lang, "pages.survey_not_found_title", _paragraph(lang, "pages.survey_not_found"), 404)
    if survey.rating is not None:
        return _page(lang, "pages.survey_answered_title", _paragraph(lang, "pages.survey_answered"))
    question = Settings.model_validate(TenantModel.get(survey.tenant_id).settings).survey_text(lang)
    words = {"choose": "pages.survey_choose", "thanks": "pages.survey_thanks", "answered": "pages.survey_answered",
             "expired": "pages.survey_expired_title", "failed": "pages.survey_failed"}
    data = "".join(f' data-{name}="{html.escape(text(lang, key))}"' for name, key in words.items())
    choices = "".join(f'<label><input type="radio" name="rating" value="{n}"> {n}</label> ' for n in range(1, 6))
    form = (f'<form id="survey"{data}><fieldset><legend>{html.escape(question)}</legend>'
            f'<p>{choices}</p><p>{html.escape(text(lang, "pages.survey_scale"))}</p></fieldset>'
            f'<p><label for="comment">{html.escape(text(lang, "pages.survey_comment"))}</label><br>'
            '<textarea id="comment" maxlength="1000" rows="4" cols="50"></textarea></p>'
            f'<p><button type="submit">{html.escape(text(lang, "pages.survey_send"))}</button></p></form>'
            '<p id="status" role="status"></p><script src="../survey.js"></script>')
    return _page(lang, "pages.survey_title", form)


def survey_script() -> Response:
    return Response(body=SCRIPT, headers={"Content-Type": "text/javascript; charset=utf-8",
                                          "Cache-Control": "public, max-age=3600"})
