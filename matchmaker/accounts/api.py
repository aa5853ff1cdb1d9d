"""Who the caller is."""

from flask_login import current_user

from matchmaker.accounts.auth import roles_required
from matchmaker.core.api import bp


@bp.get("/me")
@roles_required()
def me():
    org = current_user.organization
    return {
        "id": current_user.id,
        "login": current_user.login,
        "display_name": current_user.display_name,
        "role": current_user.role,
        "organization": {"id": org.id, "name": org.name, "kind": org.kind} if org else None,
        "fields": [f.name for f in current_user.fields],
    }
