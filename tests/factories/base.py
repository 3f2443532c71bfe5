import factory

from app.extensions import db


class Factory(factory.alchemy.SQLAlchemyModelFactory):
    """Rows are committed so that requests made by the test client see them."""

    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"
