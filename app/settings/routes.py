"""Runtime settings: the admin screen and the public part"""

from app.api import Blueprint
from app.auth.access import current_user, requires
from app.extensions import db
from app.settings import operations
from app.settings.schemas import PublicSettingsSchema, SettingSchema, SettingsUpdateSchema

blp = Blueprint(
    "settings",
    __name__,
    url_prefix="/api",
    description="Runtime settings: the admin screen and the public part",
)


@blp.route("/admin/settings", methods=["GET"])
@requires("settings.manage")
@blp.response(200, SettingSchema(many=True))
def get_settings():
    """Every runtime setting: its value, the environment's default, who changed it last."""
    return operations.all_settings()


@blp.route("/admin/settings", methods=["PUT"])
@requires("settings.manage")
@blp.arguments(SettingsUpdateSchema)
@blp.response(200, SettingSchema(many=True), message="Settings updated")
def update_settings(data):
    """Change some settings (ADMIN only): only the keys sent change; each is validated
    (400 naming every bad or unknown key, nothing changed) and audited with its old and
    new value. Every worker reads a change within ``SETTINGS_CACHE_SECONDS``."""
    operations.update_settings(data, actor_id=current_user().id)
    db.session.commit()
    return operations.all_settings()


@blp.route("/settings/public", methods=["GET"])
@blp.response(200, PublicSettingsSchema)
def public_settings():
    """The store's name, contact details, social links and maintenance banner."""
    return operations.public_settings()
