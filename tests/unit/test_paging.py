from app.core.paging import Window, window


def test_the_page_asked_for_is_read_with_the_rows_before_it():
    assert window(45, 2, 20) == Window(number=2, pages=3, offset=20)
    assert window(45, 3, 20) == Window(number=3, pages=3, offset=40)


def test_no_page_asked_for_is_the_first():
    assert window(45, None, 20) == Window(number=1, pages=3, offset=0)


def test_a_page_past_the_last_reads_the_last_and_one_before_the_first_the_first():
    assert window(40, 7, 20) == Window(number=2, pages=2, offset=20)
    assert window(40, -3, 20) == Window(number=1, pages=2, offset=0)


def test_an_empty_list_is_one_empty_page():
    assert window(0, 5, 20) == Window(number=1, pages=1, offset=0)
