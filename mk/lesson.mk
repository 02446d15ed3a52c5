# mk/lesson.mk: the lesson runtime (lesson/): SHA-256 of lab files from
# nettle; the report tests validate JUnit XML with libxml2.
DEBS_BUILD += nettle-dev
DEBS_TEST  += libxml2-dev libxml2-utils
VLAB_CFLAGS += $(shell pkg-config --cflags nettle 2>/dev/null)
VLAB_LDLIBS += $(shell pkg-config --libs nettle 2>/dev/null || echo -lnettle)

$(O)/tests/unit/lesson/test_report: VLAB_CFLAGS += $(shell pkg-config --cflags libxml-2.0 2>/dev/null)
$(O)/tests/unit/lesson/test_report: VLAB_LDLIBS += $(shell pkg-config --libs libxml-2.0 2>/dev/null)
