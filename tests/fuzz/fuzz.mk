# tests/fuzz/fuzz.mk — libFuzzer targets (tests/fuzz/fuzz_*.c), included from the top Makefile.
#
#   make fuzz-bins            build every target into $(BUILD)/fuzz/
#   tests/fuzz/run $(BUILD)   regression over the seeds, then a short fuzz of each target
#
# libFuzzer needs clang. The Makefile's objects are built by $(CC) (gcc) with gcc's sanitizer
# runtime, which cannot be mixed with clang's, so the sources the targets need (lib/, the
# milter's threads.c, the gateway's PSP drivers) are compiled again here, with clang and
# -fsanitize=fuzzer-no-link, into archives: each target only pulls the objects it uses.
# Needs the Debian packages clang and libclang-rt-14-dev.

FUZZ_CC     ?= clang
FUZZ_DIR    := $(BUILD)/fuzz
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -O1 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-deprecated-declarations \
               -Ilib -I$(BUILD)/gen $(PKG_CFLAGS) -DREGLO_DATADIR='"$(DATADIR)"' $(FUZZ_SAN)
FUZZ_SRC    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN    := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_DIR)/%)
# Everything a target may reach: lib/ and the SQL text, threads.c, the gateway's PSP drivers
# (with the gateway helpers they call).
FUZZ_LIB_SRC := $(LIB_SRC) milter/threads.c $(filter-out gateway/main.c,$(GATEWAY_SRC))
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=$(FUZZ_DIR)/obj/%.o) $(FUZZ_DIR)/obj/gen/sqltext.o

.PHONY: fuzz-bins
fuzz-bins: $(FUZZ_BIN)

$(FUZZ_DIR)/obj/%.o: %.c | $(BUILD)/gen/sqltext.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_DIR)/obj/gen/sqltext.o: $(BUILD)/gen/sqltext.c
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/libreglo-fuzz.a: $(FUZZ_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(FUZZ_DIR)/libreglo-fuzz.a
	@$(if $(Q),echo "  FUZZLD  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -Igateway/psp -Imilter -fsanitize=fuzzer -o $@ $< \
	    $(FUZZ_DIR)/libreglo-fuzz.a $(PKG_LIBS)

-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)
