"""The hosted survey page for visitors who come from the email: plain HTML, one small script, a
strict Content-Security-Policy, and the survey's state (open, answered, expired) shown as text."""
from __future__ import annotations

import html

from chalice import Response

from ..errors import ApiError
from ..mail.pages import html_page
from ..storage.settings import Settings
from ..storage.tenants import TenantModel
from .service import Expired, survey_for_token

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
       "form-action 'none'; base-uri 'none'; frame-ancestors 'none'")

SCRIPT = """// Sends the rating as JSON to POST /v1/surveys/{token}; the token is the page's own path.
const form = document.getElementById("survey");
const status = document.getElementById("status");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = decodeURIComponent(location.pathname.split("/").pop());
  const rating = Number(new FormData(form).get("rating"));
  const comment = document.getElementById("comment").value.trim();
  if (!rating) { status.textContent = "Please choose a rating."; return; }
  const response = await fetch(`../v1/surveys/${encodeURIComponent(token)}`, {
    method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify(comment ? {rating, comment} : {rating}),
  });
  const answer = await response.json();
  status.textContent = response.ok ? "Thank you for your answer." : answer.error.message;
  if (response.ok || response.status === 409 || response.status === 410) form.hidden = true;
});
"""


def _page(title: str, body: str, status: int = 200) -> Response:
    return html_page(title, body, status, CSP)


def survey_page(token: str) -> Response:
    try:
        survey = survey_for_token(token)
    except Expired:
        return _page("This survey has expired", "<p>Surveys can be answered for 7 days.</p>", 410)
    except ApiError:
        return _page("Survey not found", "<p>This link is not valid.</p>", 404)
    if survey.rating is not None:
        return _page("Thank you", "<p>This survey was already answered.</p>")
    question = Settings.model_validate(TenantModel.get(survey.tenant_id).settings).survey_question
    choices = "".join(f'<label><input type="radio" name="rating" value="{n}"> {n}</label> ' for n in range(1, 6))
    form = (f'<form id="survey"><p>{html.escape(question)}</p>'
            f'<p>{choices}</p><p><label for="comment">Anything to add? (optional)</label><br>'
            '<textarea id="comment" maxlength="1000" rows="4" cols="50"></textarea></p>'
            '<p><button type="submit">Send</button></p></form><p id="status" role="status"></p>'
            '<script src="../survey.js"></script>')
    return _page("How did we do?", form)


def survey_script() -> Response:
    return Response(body=SCRIPT, headers={"Content-Type": "text/javascript; charset=utf-8",
                                          "Cache-Control": "public, max-age=3600"})
