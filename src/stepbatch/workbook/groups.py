"""Percenty's product groups, in the order the group-assign modal lists them (shared with the simulator)."""

GROUP_NAMES: tuple[str, ...] = (
    "신규수집", "번역대기", "등록실행", "등록A", "등록B", "등록C", "등록D", "쇼핑몰T",
    "쇼핑몰A1", "쇼핑몰A2", "쇼핑몰A3", "쇼핑몰B1", "쇼핑몰B2", "쇼핑몰B3",
    "쇼핑몰C1", "쇼핑몰C2", "쇼핑몰C3", "쇼핑몰D1", "쇼핑몰D2", "쇼핑몰D3",
    "완료A1", "완료A2", "완료A3", "완료B1", "완료B2", "완료B3",
    "완료C1", "완료C2", "완료C3", "완료D1", "완료D2", "완료D3",
    "수동번역", "등록대기", "번역검수", "서버1", "서버2", "서버3",
    "대기1", "대기2", "대기3", "수동1", "수동2", "수동3",
    "검수1", "검수2", "검수3", "복제X", "삭제X", "중복X",
)

SOURCE_GROUP = "신규수집"  # step2 and step3 take their products from this group
NO_GROUP = "그룹 없음"
ALL_GROUPS = "전체"
