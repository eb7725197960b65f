"""The partner units' ranking names the unit of its hours' column in both languages."""

from __future__ import annotations

from app.core import figures
from app.core.figures import Ranked
from app.core.i18n import translations
from app.partners import figures as partner_figures
from app.reports.charts import ranking_chart


def test_the_ranking_names_hours_as_hours() -> None:
    fig = figures.get(partner_figures.partner_ranking.__name__)
    assert fig is not None
    ranked = [Ranked(1, "社区卫生服务中心", 0, {"volunteer_hours": (0, 20), "wishes": (1, 2)})]
    for lang, unit, count in (("zh", "小时", "心愿"), ("en", "hours", "Wishes")):
        chart = ranking_chart(fig, ranked, translations(lang).gettext)
        hours = chart.extra_headers[list(fig.keys).index("volunteer_hours")]
        assert unit in hours, hours
        assert [h for h in chart.extra_headers if unit in h] == [hours]  # the counts are no hours
        assert count in chart.extra_headers[list(fig.keys).index("wishes")]
