from sqlalchemy import func, select

from app.admin.seed import seed
from app.auth.models import SupplierProfile, SupplierStatus
from app.notifications.models import Notification
from tests.factories.auth import AdminProfileFactory


def test_seed_adds_pending_applications_once_and_tells_the_admins(db):
    AdminProfileFactory()
    seed()
    db.session.commit()
    seed()
    db.session.commit()
    statuses = db.session.scalars(select(SupplierProfile.status)).all()
    assert statuses == [SupplierStatus.PENDING] * 3
    told = select(func.count()).where(Notification.event == "supplier-application")
    assert db.session.scalar(told) == 3
