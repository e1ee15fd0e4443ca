"""Teams, attendants and canned replies; supervisors change them, everyone signed in reads them."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from handoff_component.service.access import Viewer
from handoff_component.service.auth import current_viewer, signed_in, supervisors_only
from handoff_component.service.bodies import (
    AttendantBody,
    CannedReplyBody,
    TeamBody,
    attendant_patch,
    json_body,
    team_patch,
)
from handoff_component.service.errors import Forbidden

blueprint = Blueprint("teams")


@blueprint.get("/api/teams")
@signed_in
async def list_teams(request: Request) -> HTTPResponse:
    return json({"teams": await request.app.ctx.teams.all()})


@blueprint.post("/api/teams")
@supervisors_only
async def create_team(request: Request) -> HTTPResponse:
    body = TeamBody.from_dict(json_body(request))
    team = await request.app.ctx.teams.create(
        name=body.name,
        display_name=body.display_name,
        webhook_url=body.webhook_url,
        webhook_secret=body.webhook_secret,
    )
    return json({"team": team}, status=201)


@blueprint.get("/api/teams/<team_id:int>")
@signed_in
async def get_team(request: Request, team_id: int) -> HTTPResponse:
    return json({"team": await request.app.ctx.teams.get(team_id)})


@blueprint.patch("/api/teams/<team_id:int>")
@supervisors_only
async def change_team(request: Request, team_id: int) -> HTTPResponse:
    values = team_patch(json_body(request))
    if not values:
        return json({"team": await request.app.ctx.teams.get(team_id)})
    return json({"team": await request.app.ctx.teams.update(team_id, values)})


@blueprint.get("/api/attendants")
@signed_in
async def list_attendants(request: Request) -> HTTPResponse:
    return json({"attendants": await request.app.ctx.attendants.all()})


@blueprint.post("/api/attendants")
@supervisors_only
async def create_attendant(request: Request) -> HTTPResponse:
    body = AttendantBody.from_dict(json_body(request))
    attendant = await request.app.ctx.attendants.create(
        username=body.username,
        display_name=body.display_name,
        password=body.password,
        role=body.role,
        team_names=body.teams,
    )
    return json({"attendant": attendant}, status=201)


@blueprint.get("/api/attendants/<attendant_id:int>")
@signed_in
async def get_attendant(request: Request, attendant_id: int) -> HTTPResponse:
    return json({"attendant": await request.app.ctx.attendants.get(attendant_id)})


@blueprint.patch("/api/attendants/<attendant_id:int>")
@supervisors_only
async def change_attendant(request: Request, attendant_id: int) -> HTTPResponse:
    values, team_names = attendant_patch(json_body(request))
    attendant = await request.app.ctx.attendants.update(attendant_id, values, team_names)
    return json({"attendant": attendant})


async def _member_of(request: Request, team_id: int) -> Viewer:
    viewer = current_viewer(request)
    await request.app.ctx.teams.get(team_id)
    if not viewer.is_supervisor and team_id not in viewer.team_ids:
        raise Forbidden("only the team's members and supervisors use its canned replies")
    return viewer


@blueprint.get("/api/teams/<team_id:int>/canned-replies")
@signed_in
async def list_canned_replies(request: Request, team_id: int) -> HTTPResponse:
    await _member_of(request, team_id)
    return json({"canned_replies": await request.app.ctx.teams.canned_replies(team_id)})


@blueprint.post("/api/teams/<team_id:int>/canned-replies")
@signed_in
async def add_canned_reply(request: Request, team_id: int) -> HTTPResponse:
    body = CannedReplyBody.from_dict(json_body(request))
    viewer = await _member_of(request, team_id)
    reply = await request.app.ctx.teams.add_canned_reply(
        team_id, body.title, body.text, viewer.attendant_id
    )
    return json({"canned_reply": reply}, status=201)


@blueprint.patch("/api/teams/<team_id:int>/canned-replies/<reply_id:int>")
@signed_in
async def change_canned_reply(request: Request, team_id: int, reply_id: int) -> HTTPResponse:
    body = CannedReplyBody.from_dict(json_body(request), partial=True)
    await _member_of(request, team_id)
    values = {k: v for k, v in (("title", body.title), ("text", body.text)) if v is not None}
    reply = await request.app.ctx.teams.change_canned_reply(team_id, reply_id, values)
    return json({"canned_reply": reply})


@blueprint.delete("/api/teams/<team_id:int>/canned-replies/<reply_id:int>")
@signed_in
async def remove_canned_reply(request: Request, team_id: int, reply_id: int) -> HTTPResponse:
    await _member_of(request, team_id)
    await request.app.ctx.teams.remove_canned_reply(team_id, reply_id)
    return json({"deleted": reply_id})
