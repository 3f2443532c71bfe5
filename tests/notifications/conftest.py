"""Order placing (tests/orders) and statement counting (tests/catalog) fixtures."""

from tests.catalog.conftest import count_statements  # noqa: F401
from tests.orders.conftest import address, checkout, fill_cart, zone  # noqa: F401
