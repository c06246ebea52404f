"""IT admins configure each department's chat robots for alerts."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from org.permissions import role_required
from org.roles import Role
from renewals.notify.forms import ChatChannelForm
from renewals.notify.models import ChatChannel
from renewals.notify.services import channels as service


@require_GET
@role_required(Role.IT_ADMIN)
def channel_list(request: HttpRequest) -> HttpResponse:
    channels = ChatChannel.objects.select_related("department").order_by("department__code", "name")
    return render(request, "renewals/notify/channel_list.html", {"channels": channels})


# A webhook URL carries its robot's token: error reports show neither it nor the secret.
@sensitive_post_parameters("url", "secret")
@require_http_methods(["GET", "POST"])
@role_required(Role.IT_ADMIN)
def channel_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    channel = get_object_or_404(ChatChannel, pk=pk) if pk else None
    form = ChatChannelForm(request.POST or None, instance=channel)
    if request.method == "POST" and form.is_valid():
        service.chat_channel_save(channel=channel, data=form.cleaned_data)
        messages.success(request, _("Chat channel saved."))
        return redirect("renewals:channel-list")
    return render(
        request,
        "renewals/notify/channel_form.html",
        {"form": form, "channel": channel},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@role_required(Role.IT_ADMIN)
def channel_delete(request: HttpRequest, pk: int) -> HttpResponse:
    service.chat_channel_delete(channel=get_object_or_404(ChatChannel, pk=pk))
    messages.success(request, _("Chat channel deleted."))
    return redirect("renewals:channel-list")
