"""Image uploads: checked by content, re-encoded, stored locally or on Cloudinary."""
