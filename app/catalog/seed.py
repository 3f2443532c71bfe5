"""Sample catalog: categories, brands, Kenyan delivery zones and electronics (upserts)."""

from __future__ import annotations

from decimal import Decimal
from itertools import cycle

from sqlalchemy import select

from app.auth.accounts import set_supplier_status
from app.auth.models import SupplierProfile, SupplierStatus, User, UserRole
from app.auth.passwords import hash_password
from app.catalog.models import Brand, Category, Product, ProductCondition, ProductSlug
from app.catalog.slugs import slugify
from app.db import utcnow
from app.delivery.models import DeliveryZone
from app.extensions import db

SUPPLIER_EMAILS = (
    "supplier1@quantumgear.co.ke",
    "supplier2@quantumgear.co.ke",
    "supplier3@quantumgear.co.ke",
)
SEED_PASSWORD = "Supplier@2025"

PHONE_SPECS = {
    "ram_gb": "integer",
    "storage_gb": "integer",
    "screen_inches": "number",
    "battery_mah": "integer",
    "colour": "string",
    "dual_sim": "boolean",
}
LAPTOP_SPECS = {
    "processor": "string",
    "ram_gb": "integer",
    "storage_gb": "integer",
    "screen_inches": "number",
    "os": "string",
}
# slug: (name, parent slug, commission rate, suggested specs)
CATEGORIES = {
    "phones-tablets": ("Phones & Tablets", None, "0.0800", {}),
    "smartphones": ("Smartphones", "phones-tablets", "0.0800", PHONE_SPECS),
    "tablets": ("Tablets", "phones-tablets", "0.0800", PHONE_SPECS),
    "computing": ("Computing", None, "0.0700", {}),
    "laptops": ("Laptops", "computing", "0.0700", LAPTOP_SPECS),
    "monitors": ("Monitors", "computing", "0.0900", {"screen_inches": "number"}),
    "tv-audio": ("TV & Audio", None, "0.1000", {}),
    "televisions": (
        "Televisions",
        "tv-audio",
        "0.1000",
        {"screen_inches": "number", "resolution": "string", "smart_tv": "boolean"},
    ),
    "headphones": (
        "Headphones & Earbuds",
        "tv-audio",
        "0.1200",
        {"wireless": "boolean", "battery_hours": "integer", "noise_cancelling": "boolean"},
    ),
    "speakers": ("Speakers", "tv-audio", "0.1200", {"wireless": "boolean", "watts": "integer"}),
    "accessories": (
        "Accessories",
        None,
        "0.1500",
        {"compatible_with": "string", "capacity_mah": "integer"},
    ),
    "gaming": ("Gaming", None, "0.1000", {"platform": "string", "storage_gb": "integer"}),
}
BRANDS = (
    "Samsung",
    "Apple",
    "Tecno",
    "Infinix",
    "Xiaomi",
    "HP",
    "Lenovo",
    "Dell",
    "LG",
    "Sony",
    "JBL",
    "Oraimo",
    "Hisense",
    "Anker",
)
ZONES = (
    ("Nairobi CBD", "Nairobi", "150.00", 1, "5000.00"),
    ("Nairobi Metro", "Nairobi, Kiambu, Kajiado, Machakos", "300.00", 1, "10000.00"),
    ("Mombasa", "Mombasa, Kilifi, Kwale", "450.00", 2, "15000.00"),
    ("Kisumu", "Kisumu, Siaya, Homa Bay", "450.00", 2, "15000.00"),
    ("Nakuru & Rift Valley", "Nakuru, Uasin Gishu, Kericho, Baringo", "400.00", 2, "15000.00"),
    ("Central Kenya", "Nyeri, Murang'a, Kirinyaga, Meru, Embu", "350.00", 2, "12000.00"),
    ("Western Kenya", "Kakamega, Bungoma, Busia, Vihiga", "500.00", 3, "20000.00"),
    ("North Eastern & Remote", "Garissa, Wajir, Mandera, Marsabit, Turkana", "900.00", 5, None),
)
# (name, category, brand, price KES, stock, condition, warranty, specs)
PRODUCTS = (
    ("Samsung Galaxy S24 Ultra 256GB", "smartphones", "Samsung", "164999", 12, "NEW", 12,
     {"ram_gb": 12, "storage_gb": 256, "screen_inches": 6.8, "battery_mah": 5000}),
    ("Samsung Galaxy A55 5G 128GB", "smartphones", "Samsung", "52999", 40, "NEW", 12,
     {"ram_gb": 8, "storage_gb": 128, "screen_inches": 6.6, "dual_sim": True}),
    ("Samsung Galaxy A15 128GB", "smartphones", "Samsung", "21499", 60, "NEW", 12,
     {"ram_gb": 4, "storage_gb": 128, "battery_mah": 5000, "dual_sim": True}),
    ("Apple iPhone 15 Pro 128GB", "smartphones", "Apple", "154999", 8, "NEW", 12,
     {"ram_gb": 8, "storage_gb": 128, "screen_inches": 6.1, "colour": "Natural Titanium"}),
    ("Apple iPhone 13 128GB (Refurbished)", "smartphones", "Apple", "69999", 15,
     "REFURBISHED", 6, {"ram_gb": 4, "storage_gb": 128, "colour": "Midnight"}),
    ("Apple iPhone 14 128GB", "smartphones", "Apple", "99999", 10, "NEW", 12,
     {"ram_gb": 6, "storage_gb": 128, "screen_inches": 6.1}),
    ("Tecno Camon 30 Pro 5G", "smartphones", "Tecno", "42999", 35, "NEW", 12,
     {"ram_gb": 12, "storage_gb": 512, "battery_mah": 5000, "dual_sim": True}),
    ("Tecno Spark 20 Pro+", "smartphones", "Tecno", "24999", 50, "NEW", 12,
     {"ram_gb": 8, "storage_gb": 256, "screen_inches": 6.78}),
    ("Tecno Pop 8 64GB", "smartphones", "Tecno", "10999", 80, "NEW", 12,
     {"ram_gb": 3, "storage_gb": 64, "battery_mah": 5000}),
    ("Infinix Note 40 Pro", "smartphones", "Infinix", "32999", 30, "NEW", 12,
     {"ram_gb": 8, "storage_gb": 256, "battery_mah": 5000}),
    ("Infinix Hot 40i 128GB", "smartphones", "Infinix", "15999", 70, "NEW", 12,
     {"ram_gb": 4, "storage_gb": 128, "dual_sim": True}),
    ("Infinix Smart 8 64GB", "smartphones", "Infinix", "11499", 90, "NEW", 12,
     {"ram_gb": 3, "storage_gb": 64}),
    ("Xiaomi Redmi Note 13 Pro 256GB", "smartphones", "Xiaomi", "39999", 25, "NEW", 12,
     {"ram_gb": 8, "storage_gb": 256, "screen_inches": 6.67}),
    ("Xiaomi Redmi 13C 128GB", "smartphones", "Xiaomi", "14999", 65, "NEW", 12,
     {"ram_gb": 4, "storage_gb": 128, "battery_mah": 5000}),
    ("Xiaomi 14T Pro 512GB", "smartphones", "Xiaomi", "89999", 9, "NEW", 12,
     {"ram_gb": 12, "storage_gb": 512}),
    ("Samsung Galaxy Tab A9+ 64GB", "tablets", "Samsung", "29999", 20, "NEW", 12,
     {"ram_gb": 4, "storage_gb": 64, "screen_inches": 11.0}),
    ("Samsung Galaxy Tab S9 FE", "tablets", "Samsung", "64999", 10, "NEW", 12,
     {"ram_gb": 6, "storage_gb": 128, "screen_inches": 10.9}),
    ("Apple iPad 10th Gen 64GB Wi-Fi", "tablets", "Apple", "59999", 14, "NEW", 12,
     {"storage_gb": 64, "screen_inches": 10.9}),
    ("Apple iPad Air M2 128GB", "tablets", "Apple", "94999", 6, "NEW", 12,
     {"storage_gb": 128, "screen_inches": 11.0}),
    ("Xiaomi Redmi Pad SE 128GB", "tablets", "Xiaomi", "24999", 18, "NEW", 12,
     {"ram_gb": 4, "storage_gb": 128, "screen_inches": 11.0}),
    ("HP 250 G9 Core i5 8GB 512GB SSD", "laptops", "HP", "64999", 15, "NEW", 12,
     {"processor": "Intel Core i5-1235U", "ram_gb": 8, "storage_gb": 512, "os": "Windows 11"}),
    ("HP EliteBook 840 G6 Core i7 (Refurbished)", "laptops", "HP", "45999", 20,
     "REFURBISHED", 6, {"processor": "Intel Core i7-8665U", "ram_gb": 16, "storage_gb": 512}),
    ("HP Pavilion 15 Ryzen 7 16GB", "laptops", "HP", "99999", 7, "NEW", 12,
     {"processor": "AMD Ryzen 7 7730U", "ram_gb": 16, "storage_gb": 512}),
    ("Lenovo IdeaPad Slim 3 Core i3", "laptops", "Lenovo", "46999", 18, "NEW", 12,
     {"processor": "Intel Core i3-1215U", "ram_gb": 8, "storage_gb": 256}),
    ("Lenovo ThinkPad T480 Core i5 (Refurbished)", "laptops", "Lenovo", "34999", 25,
     "REFURBISHED", 6, {"processor": "Intel Core i5-8350U", "ram_gb": 8, "storage_gb": 256}),
    ("Lenovo ThinkPad X1 Carbon Gen 11", "laptops", "Lenovo", "219999", 4, "NEW", 24,
     {"processor": "Intel Core i7-1365U", "ram_gb": 16, "storage_gb": 1024}),
    ("Dell Latitude 5420 Core i5 (Refurbished)", "laptops", "Dell", "39999", 22,
     "REFURBISHED", 6, {"processor": "Intel Core i5-1145G7", "ram_gb": 8, "storage_gb": 256}),
    ("Dell Inspiron 15 3520 Core i7", "laptops", "Dell", "89999", 9, "NEW", 12,
     {"processor": "Intel Core i7-1255U", "ram_gb": 16, "storage_gb": 512}),
    ("Apple MacBook Air M2 13-inch 256GB", "laptops", "Apple", "139999", 6, "NEW", 12,
     {"processor": "Apple M2", "ram_gb": 8, "storage_gb": 256, "os": "macOS"}),
    ("Apple MacBook Pro M3 14-inch 512GB", "laptops", "Apple", "249999", 3, "NEW", 12,
     {"processor": "Apple M3", "ram_gb": 8, "storage_gb": 512, "os": "macOS"}),
    ("Dell 24 Monitor SE2425H", "monitors", "Dell", "17999", 20, "NEW", 36,
     {"screen_inches": 23.8}),
    ("Samsung 27-inch Curved Monitor C27F390", "monitors", "Samsung", "24999", 12, "NEW", 12,
     {"screen_inches": 27.0}),
    ("LG 24MP400 24-inch IPS Monitor", "monitors", "LG", "15999", 16, "NEW", 12,
     {"screen_inches": 23.8}),
    ("HP M24f 24-inch FHD Monitor", "monitors", "HP", "18999", 14, "NEW", 12,
     {"screen_inches": 23.8}),
    ("Samsung 55-inch Crystal UHD 4K Smart TV", "televisions", "Samsung", "64999", 10, "NEW",
     24, {"screen_inches": 55.0, "resolution": "4K", "smart_tv": True}),
    ("Samsung 43-inch FHD Smart TV", "televisions", "Samsung", "34999", 15, "NEW", 24,
     {"screen_inches": 43.0, "resolution": "Full HD", "smart_tv": True}),
    ("LG 65-inch OLED evo C3 4K TV", "televisions", "LG", "289999", 3, "NEW", 24,
     {"screen_inches": 65.0, "resolution": "4K", "smart_tv": True}),
    ("LG 32-inch HD LED TV", "televisions", "LG", "17999", 20, "NEW", 12,
     {"screen_inches": 32.0, "resolution": "HD", "smart_tv": False}),
    ("Hisense 50-inch A6 4K UHD Smart TV", "televisions", "Hisense", "44999", 12, "NEW", 24,
     {"screen_inches": 50.0, "resolution": "4K", "smart_tv": True}),
    ("Hisense 32-inch A4 Smart TV", "televisions", "Hisense", "18499", 25, "NEW", 24,
     {"screen_inches": 32.0, "resolution": "HD", "smart_tv": True}),
    ("Sony Bravia 55-inch X75K 4K TV", "televisions", "Sony", "79999", 6, "NEW", 24,
     {"screen_inches": 55.0, "resolution": "4K", "smart_tv": True}),
    ("Sony WH-1000XM5 Wireless Headphones", "headphones", "Sony", "49999", 10, "NEW", 12,
     {"wireless": True, "battery_hours": 30, "noise_cancelling": True}),
    ("Sony WF-C500 True Wireless Earbuds", "headphones", "Sony", "9999", 25, "NEW", 12,
     {"wireless": True, "battery_hours": 20, "noise_cancelling": False}),
    ("Apple AirPods Pro (2nd Gen)", "headphones", "Apple", "34999", 15, "NEW", 12,
     {"wireless": True, "battery_hours": 30, "noise_cancelling": True}),
    ("Samsung Galaxy Buds FE", "headphones", "Samsung", "10999", 30, "NEW", 12,
     {"wireless": True, "battery_hours": 21, "noise_cancelling": True}),
    ("Oraimo FreePods 4 ANC Earbuds", "headphones", "Oraimo", "4499", 100, "NEW", 12,
     {"wireless": True, "battery_hours": 35, "noise_cancelling": True}),
    ("JBL Tune 520BT Wireless Headphones", "headphones", "JBL", "7999", 40, "NEW", 12,
     {"wireless": True, "battery_hours": 57, "noise_cancelling": False}),
    ("JBL Flip 6 Portable Bluetooth Speaker", "speakers", "JBL", "16999", 20, "NEW", 12,
     {"wireless": True, "watts": 30}),
    ("JBL PartyBox 110", "speakers", "JBL", "54999", 6, "NEW", 12,
     {"wireless": True, "watts": 160}),
    ("JBL Go 3 Mini Speaker", "speakers", "JBL", "5499", 50, "NEW", 12,
     {"wireless": True, "watts": 4}),
    ("Sony SRS-XB100 Compact Speaker", "speakers", "Sony", "7999", 30, "NEW", 12,
     {"wireless": True, "watts": 5}),
    ("LG XBOOM XL7S Party Speaker", "speakers", "LG", "69999", 4, "NEW", 12,
     {"wireless": True, "watts": 250}),
    ("Oraimo Traveler 4 20000mAh Power Bank", "accessories", "Oraimo", "2999", 150, "NEW", 12,
     {"capacity_mah": 20000}),
    ("Oraimo 25W USB-C Fast Charger", "accessories", "Oraimo", "1499", 200, "NEW", 12,
     {"compatible_with": "Android, iPhone"}),
    ("Anker PowerCore 10000 Power Bank", "accessories", "Anker", "3999", 60, "NEW", 18,
     {"capacity_mah": 10000}),
    ("Anker 735 Nano II 65W GaN Charger", "accessories", "Anker", "6999", 35, "NEW", 18,
     {"compatible_with": "Laptops, phones, tablets"}),
    ("Apple 20W USB-C Power Adapter", "accessories", "Apple", "3499", 70, "NEW", 12,
     {"compatible_with": "iPhone, iPad"}),
    ("Samsung 45W Super Fast Charger", "accessories", "Samsung", "4499", 45, "NEW", 12,
     {"compatible_with": "Samsung Galaxy"}),
    ("Xiaomi Smart Band 8", "accessories", "Xiaomi", "5999", 40, "NEW", 12,
     {"compatible_with": "Android, iPhone"}),
    ("Sony PlayStation 5 Slim Disc Edition", "gaming", "Sony", "84999", 8, "NEW", 12,
     {"platform": "PlayStation", "storage_gb": 1024}),
    ("Sony DualSense Wireless Controller", "gaming", "Sony", "10999", 25, "NEW", 12,
     {"platform": "PlayStation"}),
    ("Sony PlayStation 4 Pro 1TB (Refurbished)", "gaming", "Sony", "44999", 6, "REFURBISHED",
     6, {"platform": "PlayStation", "storage_gb": 1024}),
    ("Lenovo Legion Go Handheld 512GB", "gaming", "Lenovo", "109999", 3, "NEW", 12,
     {"platform": "Windows", "storage_gb": 512}),
)  # fmt: skip


def _suppliers() -> list[SupplierProfile]:
    """The auth seed's suppliers; created minimally (approved, verified) if absent."""
    profiles = []
    for number, email in enumerate(SUPPLIER_EMAILS, start=1):
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(
                email=email,
                password_hash=hash_password(SEED_PASSWORD),
                first_name="Supplier",
                last_name=str(number),
                role=UserRole.SUPPLIER,
                email_verified_at=utcnow(),
            )
            db.session.add(user)
        if user.supplier_profile is None:
            user.supplier_profile = SupplierProfile(
                business_name=f"Quantum Supplier {number} Ltd",
                mpesa_payout_number=f"25471100000{number}",
            )
            set_supplier_status(user.supplier_profile, SupplierStatus.APPROVED)
        profiles.append(user.supplier_profile)
    db.session.flush()
    return profiles


def _upsert(model, key: str, value, **fields):
    row = db.session.scalar(select(model).where(getattr(model, key) == value))
    if row is None:
        row = model(**{key: value})
        db.session.add(row)
    for name, field_value in fields.items():
        setattr(row, name, field_value)
    return row


def seed() -> str:
    categories: dict[str, Category] = {}
    for slug, (name, parent, rate, specs) in CATEGORIES.items():
        categories[slug] = _upsert(
            Category,
            "slug",
            slug,
            name=name,
            parent=categories.get(parent),
            commission_rate=Decimal(rate),
            suggested_specs=specs,
        )
    brands = {
        name: _upsert(Brand, "slug", slugify(name), name=name, logo_url=None) for name in BRANDS
    }
    for name, counties, fee, days, threshold in ZONES:
        _upsert(
            DeliveryZone,
            "name",
            name,
            counties=counties,
            fee=Decimal(fee),
            estimated_days=days,
            free_delivery_threshold=Decimal(threshold) if threshold else None,
        )
    db.session.flush()

    suppliers = cycle(_suppliers())
    for name, category, brand, price, stock, condition, warranty, specs in PRODUCTS:
        slug = slugify(name)
        product = _upsert(
            Product,
            "slug",
            slug,
            name=name,
            sku=slug.upper()[:64],
            description=f"{name}. Genuine {brand} product, delivered across Kenya.",
            price=Decimal(price),
            stock=stock,
            condition=ProductCondition(condition),
            warranty_months=warranty,
            specs=specs,
            images=[f"https://res.cloudinary.com/quantumgear/image/upload/{slug}.jpg"],
            category=categories[category],
            brand=brands[brand],
        )
        if product.supplier_id is None:
            product.supplier = next(suppliers)
        db.session.flush()
        if db.session.scalar(select(ProductSlug.id).where(ProductSlug.slug == slug)) is None:
            db.session.add(ProductSlug(product_id=product.id, slug=slug))
    db.session.flush()
    return (
        f"{len(CATEGORIES)} categories, {len(BRANDS)} brands, {len(ZONES)} delivery zones, "
        f"{len(PRODUCTS)} products"
    )
