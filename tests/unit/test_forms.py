from blockhours_dev.standin.forms import decode


def test_stripe_form_encoding_decodes_to_nested_values() -> None:
    body = (
        "mode=payment&line_items[0][quantity]=1&line_items[0][price_data][unit_amount]=12900"
        "&line_items[1][quantity]=2&metadata[sku]=block-60&consent_collection[terms_of_service]=required"
    )
    assert decode(body) == {
        "mode": "payment",
        "line_items": [{"quantity": "1", "price_data": {"unit_amount": "12900"}}, {"quantity": "2"}],
        "metadata": {"sku": "block-60"},
        "consent_collection": {"terms_of_service": "required"},
    }
