from datetime import timedelta

import factory

from app.db import utcnow
from app.notifications.models import Notification
from tests.factories.auth import UserFactory
from tests.factories.base import Factory


class NotificationFactory(Factory):
    """Each one a minute newer than the one before."""

    class Meta:
        model = Notification

    user_id = factory.SelfAttribute("user.id")
    event = "order-status-changed"
    title = factory.Sequence(lambda n: f"Notification {n}")
    body = "Your order is now shipped."
    link = "/orders/1"
    created_at = factory.Sequence(lambda n: utcnow() + timedelta(minutes=n))

    class Params:
        user = factory.SubFactory(UserFactory)
        read = factory.Trait(read_at=factory.LazyFunction(utcnow))
