"""Cart factories: ``CartFactory(user=customer, items=[(product, 2)])``."""

import factory

from app.auth.models import UserRole
from app.cart.models import Cart, CartItem
from tests.factories.auth import UserFactory
from tests.factories.base import Factory


class CartFactory(Factory):
    """A customer's cart (created or reused) holding ``items=[(product, quantity), ...]``."""

    class Meta:
        model = Cart
        sqlalchemy_get_or_create = ("user_id",)  # one cart per customer: reuse it

    class Params:
        user = factory.SubFactory(UserFactory, role=UserRole.CUSTOMER)

    user_id = factory.LazyAttribute(lambda o: o.user.id)

    @factory.post_generation
    def items(cart, create, extracted, **kwargs):
        for product, quantity in extracted or ():
            cart.items.append(
                CartItem(product=product, quantity=quantity, price_when_added=product.price)
            )
        if create and extracted:
            CartFactory._meta.sqlalchemy_session_factory().commit()
