"""Catalog: categories, brands, products, search, reviews, import."""
